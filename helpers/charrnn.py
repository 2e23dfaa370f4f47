"""Given (non-graded) code for the char-RNN notebooks: small random parameters, reading text
through a model.

Nothing here computes a step of the model: the notebooks pass their own step function,
``step(ix, h) -> (h, y)``, which reads the character of index ``ix`` from the state ``h``
(an ``(H, 1)`` column) and returns the next state and the logits ``y`` (``(V, 1)``). The
step itself (assignment 1's ``rnn_step_forward``) and the ways of drawing a character
(assignment 3) are exercises, so they stay in the notebooks.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from helpers.values import describe

__all__ = ["make_test_params", "read"]


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
            raise ValueError(f"make_test_params: `{name}` must be an int >= 1, got {describe(value)}")
    if not scale > 0:
        raise ValueError(f"make_test_params: `scale` must be > 0, got {describe(scale)}")
    rng = np.random.default_rng(seed)
    V, H = int(vocab_size), int(hidden_size)
    shapes = {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}
    return {name: rng.normal(0.0, scale, shape) for name, shape in shapes.items()}


def _check_step_result(func: str, result, t: int):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{func}: `step(ix, h)` must return a pair (h, y), got {describe(result)} "
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
