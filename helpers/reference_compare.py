"""The hidden tests' comparison of a student's result with the reference, written once for the course.

An assignment's ``solutions/<assignment>/reference.py`` imports it
(``from helpers.reference_compare import close, mismatch``) and the release
inlines it with the rest of that module
(:mod:`helpers.instructor.references`): under grading each hidden test carries
its own copy, which a submission cannot rebind. Like ``reference.py`` it keeps
to imports, ``def`` and constants. It holds no answer and is not part of the
student kit.

The numbers are compared with torch operations, never numpy's own checks: the
student's numpy is what is being tested.
"""
import numpy as np
import torch
from scipy.stats import chi2


def as_float64(value):
    """value (array-like or tensor) as a float64 torch tensor of the same shape; raises TypeError,
    ValueError or RuntimeError if it is not numbers."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64)
    array = np.array(value)  # a copy: torch refuses negative strides and read-only views
    if array.dtype.kind not in "biuf":  # bool, int or float: not a str, None or a ragged list
        raise TypeError(f"{type(value).__name__} is not numbers")
    return torch.from_numpy(array.astype(np.float64))


def mismatch(got, want, tol=1e-9, numpy_only=False):
    """None when got matches want; else what differs, as words that follow the result's name.

    got matches when it converts to want's shape and every entry lies within
    tol * max(1, largest |want|) of want's (tol=0 asks for equality); nan and
    inf never match a finite want. numpy_only: got must also be a numpy array.
    Examples: "has shape (3,), want (3, 1)", "is wrong in 2 of 6 entries
    (largest error 0.5)", "is a list, not a numpy array".
    """
    if numpy_only and not isinstance(got, np.ndarray):
        return f"is a {type(got).__name__}, not a numpy array"
    want = as_float64(want)
    try:
        values = as_float64(got)
    except (TypeError, ValueError, RuntimeError):
        return f"is a {type(got).__name__}, not an array of numbers"
    if tuple(values.shape) != tuple(want.shape):
        return f"has shape {tuple(values.shape)}, want {tuple(want.shape)}"
    if want.numel() == 0:
        return None
    errors = (values - want).abs()
    wrong = ~(errors <= tol * max(1.0, want.abs().max().item()))
    if not wrong.any():
        return None
    largest = errors.nan_to_num(nan=float("inf")).max().item()
    return f"is wrong in {int(wrong.sum())} of {want.numel()} entries (largest error {largest:.3g})"


def close(got, want, tol=1e-9):
    """True when mismatch(got, want, tol) finds nothing."""
    return mismatch(got, want, tol) is None


def chi_square_p(counts, probs):
    """p-value of Pearson's chi-square test that counts (K entries, any shape) were drawn from the
    categorical distribution probs (K entries): the hidden tests of samplers compare it with 1e-4."""
    counts, probs = as_float64(counts).reshape(-1), as_float64(probs).reshape(-1)
    expected = counts.sum() * probs
    statistic = (((counts - expected) ** 2) / expected).sum().item()
    return float(chi2.sf(statistic, df=probs.numel() - 1))
