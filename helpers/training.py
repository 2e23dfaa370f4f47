"""Training utilities: seeding, grading budgets, progress bars, a training loop.

Environment variables
---------------------
``NBGRADER_EXECUTION``
    Set by nbgrader while autograding or validating ('autograde'/'validate');
    :func:`is_grading` and :func:`budget` use it to shorten long training.
``RNN_KIT_NO_PROGRESS``
    When set to anything but '' or '0', progress bars are disabled (tests, CI,
    autograde logs).
"""
from __future__ import annotations

import importlib.util
import math
import numbers
import os
import random
import time
from dataclasses import dataclass, field

import numpy as np

from helpers.values import describe

__all__ = [
    "seed_everything",
    "is_grading",
    "budget",
    "progress",
    "smooth_losses",
    "train",
    "TrainHistory",
]


def seed_everything(seed) -> np.random.Generator:
    """Seed python's ``random``, numpy's legacy global generator and torch.

    Inputs:
    - seed: int in [0, 2**32 - 1].

    Returns:
    - ``np.random.default_rng(seed)``: pass it on as the ``rng`` argument.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed_everything: `seed` must be an int, got {describe(seed)}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed_everything: `seed` must be in [0, 2**32 - 1], got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    if importlib.util.find_spec("torch") is not None:
        import torch  # seeds CPU and every CUDA device

        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def is_grading() -> bool:
    """True while nbgrader autogrades or validates (``NBGRADER_EXECUTION`` set)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def budget(full, grading):
    """``grading`` under nbgrader, ``full`` otherwise.

    Example: ``n_steps = budget(full=20_000, grading=200)``.
    """
    for arg, value in (("full", full), ("grading", grading)):
        if value is None:
            raise TypeError(f"budget: `{arg}` must be given (e.g. a number of steps), got None")
    return grading if is_grading() else full


def _progress_disabled() -> bool:
    return os.environ.get("RNN_KIT_NO_PROGRESS", "") not in ("", "0")


def progress(iterable=None, *, total=None, desc=None, **kwargs):
    """A ``tqdm.auto.tqdm`` progress bar (a widget in JupyterLab, text in a terminal).

    Inputs:
    - iterable: what to iterate over, or None for a manual bar (``.update()``).
    - total: number of items (int >= 0) when ``len(iterable)`` is unknown.
    - desc: label in front of the bar.
    - kwargs: passed to tqdm. The bar is disabled when ``RNN_KIT_NO_PROGRESS``
      is set (or ``disable=True`` is passed).
    """
    from tqdm.auto import tqdm

    if total is not None and (isinstance(total, bool) or not isinstance(total, numbers.Integral)
                              or total < 0):
        raise ValueError(f"progress: `total` must be a non-negative int or None, "
                         f"got {describe(total)}")
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"progress: `desc` must be a str or None, got {describe(desc)}")
    disable = bool(kwargs.pop("disable", False)) or _progress_disabled()
    return tqdm(iterable, total=total, desc=desc, disable=disable, **kwargs)


def _validate_beta(func, beta):
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
        raise ValueError(f"{func}: `beta` must be a number in [0, 1), got {describe(beta)}")


def smooth_losses(losses, *, beta=0.999, start=None) -> np.ndarray:
    """min-char-rnn's exponential smoothing of a loss curve.

    ``s = beta * s + (1 - beta) * loss`` for each loss in turn, starting from
    ``s = start`` (default: the first loss, so out[0] == losses[0]).

    Inputs:
    - losses: sequence of N finite numbers (1-D).
    - beta: smoothing factor in [0, 1); 0 returns the losses unchanged.
    - start: initial value (min-char-rnn starts at ``-log(1/V) * seq_length``).

    Returns:
    - smoothed: float64 array of shape (N,), the value after each loss.
    """
    try:
        arr = np.asarray(losses, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"smooth_losses: `losses` must be a sequence of numbers, "
                        f"got {describe(losses)}") from None
    if arr.ndim != 1:
        raise ValueError(f"smooth_losses: `losses` must be 1-D (one loss per step), "
                         f"got shape {arr.shape}")
    if not np.isfinite(arr).all():
        first = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"smooth_losses: `losses` must be finite, got {arr[first]} at index {first}")
    _validate_beta("smooth_losses", beta)
    if start is not None and (isinstance(start, bool) or not isinstance(start, numbers.Real)):
        raise TypeError(f"smooth_losses: `start` must be a number or None, got {describe(start)}")
    if start is not None and not math.isfinite(start):
        raise ValueError(f"smooth_losses: `start` must be finite, got {start}")
    out = np.empty_like(arr)
    s = float(arr[0]) if start is None and arr.size else start
    for i, loss in enumerate(arr.tolist()):  # plain floats: ~10x faster than numpy scalars
        s = beta * s + (1 - beta) * loss
        out[i] = s
    return out


@dataclass
class TrainHistory:
    """What :func:`train` did.

    - steps: number of completed steps.
    - losses: list of ``steps`` floats, the loss returned by each step.
    - seconds: wall-clock time spent.
    - stopped_early: True when ``time_limit`` ended training before ``n_steps``.
    """

    steps: int = 0
    losses: list = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False

    def smoothed(self, beta=0.999) -> np.ndarray:
        """Smoothed losses, shape (steps,) (see :func:`smooth_losses`)."""
        return smooth_losses(self.losses, beta=beta)


def _as_loss(value, step) -> float:
    """The loss returned by ``step_fn`` as a float (TypeError if it is not a number)."""
    if hasattr(value, "detach"):  # a torch scalar tensor
        value = value.detach().cpu().numpy()
    arr = np.asarray(value) if not isinstance(value, (str, bytes)) else None
    if arr is None or arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(f"train: `step_fn` must return the loss as a number, got "
                        f"{describe(value)} at step {step}")
    return float(arr.reshape(()))


def _validate_train_args(step_fn, n_steps, desc, log_every, on_log, time_limit):
    if not callable(step_fn):
        raise TypeError(f"train: `step_fn` must be a function step -> loss, got {describe(step_fn)}")
    for arg, value, low in (("n_steps", n_steps, 0), ("log_every", log_every, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"train: `{arg}` must be an int >= {low}, got {describe(value)}")
    if not isinstance(desc, str):
        raise TypeError(f"train: `desc` must be a str, got {describe(desc)}")
    if on_log is not None and not callable(on_log):
        raise TypeError(f"train: `on_log` must be a function (step, history) or None, "
                        f"got {describe(on_log)}")
    if time_limit is not None and (isinstance(time_limit, bool)
                                   or not isinstance(time_limit, numbers.Real)
                                   or not time_limit > 0):
        raise ValueError(f"train: `time_limit` must be a positive number of seconds or None, "
                         f"got {describe(time_limit)}")


def train(step_fn, n_steps, *, desc="training", log_every=100, on_log=None,
          time_limit=None) -> TrainHistory:
    """Run ``step_fn(step)`` for step = 0 .. n_steps - 1 under a progress bar.

    Inputs:
    - step_fn: function(step: int) -> loss (number, size-1 array or torch
      scalar); it does one optimisation step.
    - n_steps: int >= 0.
    - desc: progress-bar label; its postfix shows the smoothed loss
      (beta = 0.999, starting at the first loss).
    - log_every: ``on_log`` runs after steps 0, log_every, 2*log_every, ...
    - on_log: optional function(step, history) e.g. printing a sample; the
      history then holds the losses up to and including ``step``.
    - time_limit: optional seconds; training stops after the step during
      which the limit passed, with ``history.stopped_early = True``.

    Returns:
    - TrainHistory.

    Raises FloatingPointError when a loss is nan or inf (the history so far is
    attached to the exception as ``.history``).
    """
    _validate_train_args(step_fn, n_steps, desc, log_every, on_log, time_limit)
    history = TrainHistory()
    start = time.perf_counter()
    smooth = None
    bar = progress(total=int(n_steps), desc=desc)
    try:
        for step in range(int(n_steps)):
            loss = _as_loss(step_fn(step), step)
            if not math.isfinite(loss):
                history.seconds = time.perf_counter() - start
                err = FloatingPointError(f"loss became {loss} at step {step}: lower the "
                                         f"learning rate or clip the gradients")
                err.history = history
                raise err
            history.losses.append(loss)
            history.steps = step + 1
            smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
            bar.set_postfix(loss=f"{smooth:.4f}", refresh=False)
            bar.update(1)
            if on_log is not None and step % log_every == 0:
                history.seconds = time.perf_counter() - start
                on_log(step, history)
            if time_limit is not None and time.perf_counter() - start >= time_limit:
                history.stopped_early = step + 1 < n_steps
                break
    finally:
        bar.close()
    history.seconds = time.perf_counter() - start
    return history
