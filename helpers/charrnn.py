"""Given (non-graded) code for the char-RNN notebooks: small random parameters, reading text
through a model, and generating from it.

Nothing here computes a step of the model: the notebooks pass their own step function,
``step(ix, h) -> (h, y)``, which reads the character of index ``ix`` from the state ``h``
(an ``(H, 1)`` column) and returns the next state and the logits ``y`` (``(V, 1)``). The
step itself (assignment 1's ``rnn_step_forward``) and the ways of drawing a character
(assignment 3) are exercises, so they stay in the notebooks.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["make_test_params", "read", "generate"]


def _describe(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"

Step = Callable[[int, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def make_test_params(vocab_size: int, hidden_size: int, seed: int, scale: float = 0.5) -> dict:
    """Random char-RNN parameters for tests and demonstrations, larger than a real initialisation.

    Inputs: vocab_size V >= 1, hidden_size H >= 1, an int seed, and the standard deviation
    ``scale`` of every entry.

    Returns a dict in min-char-rnn's layout, Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1),
    by (V, 1), drawn in that order from ``numpy.random.default_rng(seed)`` (normal, mean 0):
    the same seed always gives the same numbers.
    """
    for name, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"make_test_params: `{name}` must be an int >= 1, got {_describe(value)}")
    if not scale > 0:
        raise ValueError(f"make_test_params: `scale` must be > 0, got {_describe(scale)}")
    rng = np.random.default_rng(seed)
    V, H = int(vocab_size), int(hidden_size)
    shapes = {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}
    return {name: rng.normal(0.0, scale, shape) for name, shape in shapes.items()}


def _check_step_result(func: str, result, t: int):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{func}: `step(ix, h)` must return a pair (h, y), got {_describe(result)} "
                        f"at character {t}")
    return result


def read(step: Step, indices: Sequence[int], h: np.ndarray) -> tuple[np.ndarray, list]:
    """Feed characters to a model one by one.

    Inputs:
    - step: the model's step, ``step(ix, h) -> (h, y)`` (see the module's doc)
    - indices: the T >= 1 character indices to read, in order
    - h: the state before the first one, shape (H, 1); not modified

    Returns ``(h, outputs)``: the state after the last character and the list of the T
    outputs ``y``; ``outputs[t]`` is what the model says after reading ``indices[t]``, so
    ``outputs[-1]`` scores the character that would come next.
    """
    indices = list(indices)
    if not indices:
        raise ValueError("read: `indices` is empty: give at least one character to read")
    outputs = []
    for t, ix in enumerate(indices):
        h, y = _check_step_result("read", step(int(ix), h), t)
        outputs.append(y)
    return h, outputs


def generate(step: Step, h: np.ndarray, y: np.ndarray, n: int, choose: Callable) -> list[int]:
    """Draw n characters, feeding each one back into the model.

    Inputs:
    - step: the model's step, ``step(ix, h) -> (h, y)``
    - h, y: the state and the logits to start from (e.g. what :func:`read` returns after a prompt)
    - n: how many characters to draw, n >= 0
    - choose: ``choose(y) -> ix``, draws the index of the next character from the logits y
      (the sampler, with its temperature and random generator)

    Returns the list of the n indices drawn: the first is ``choose(y)``, and each next one is
    drawn from the logits of the step that read the one before.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"generate: `n` must be an int >= 0, got {_describe(n)}")
    drawn = []
    for t in range(n):
        ix = int(choose(y))
        drawn.append(ix)
        if t + 1 < n:
            h, y = _check_step_result("generate", step(ix, h), t)
    return drawn
