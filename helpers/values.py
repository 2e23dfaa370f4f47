"""Values in messages: what a value is, in a few words, and tensors as numpy arrays.

Used by every student-facing module of the helpers (checks, plotting, training, widgets, ...), so
that an error names what it got the same way everywhere.
"""
from __future__ import annotations

import numpy as np

__all__ = ["describe", "is_tensor", "tensor_to_numpy"]


def describe(value) -> str:
    """Short description of a value for error messages, e.g. ``str 'abc'``."""
    if value is None:
        return "None"
    if is_tensor(value):
        return f"torch.Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"numpy {type(value).__name__} {value!r}"
    if isinstance(value, (str, bytes)):
        text = repr(value)
        text = text if len(text) <= 40 else text[:36] + "...'"
        return f"{type(value).__name__} {text}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"{type(value).__name__} of length {len(value)}"
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{type(value).__name__} {text}"


def is_tensor(value) -> bool:
    """True for torch tensors, without importing torch."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def tensor_to_numpy(value) -> np.ndarray:
    return value.detach().cpu().resolve_conj().numpy()
