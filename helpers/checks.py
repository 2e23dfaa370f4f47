"""Friendly checks for the visible tests in the notebooks.

Students call these functions in the visible test cells. A failing check raises
:class:`CheckFailed` (an ``AssertionError``) whose message says what is wrong,
in which entry and, when the notebook gives one, how to fix it; a passing check
prints one line starting with ``✓``.

Expected values "computed by the kit" are read with :func:`expected` /
:func:`check_expected`; a key such as ``"a1.softmax.basic"`` lives in
``helpers/expected/a1.json``. Their storage, the environment variables and
record mode are in :mod:`helpers.expected_values`.
"""
from __future__ import annotations

import numbers

import numpy as np

from helpers.expected_values import (EXPECTED_DIR_ENV, RECORD_ENV, MissingExpectedValue, expected, expected_dir,
                                     lookup, record, record_dir, split_key)
from helpers.values import describe, is_tensor, tensor_to_numpy

__all__ = [
    "CheckFailed",
    "MissingExpectedValue",
    "check_array",
    "check_scalar",
    "check_true",
    "check_shape",
    "check_expected",
    "expected",
    "expected_dir",
    "EXPECTED_DIR_ENV",
    "RECORD_ENV",
]

_SMALL = 20  # arrays with at most this many entries are printed in full

# Bound at import time so that a notebook which later replaces np.isfinite,
# np.isnan, np.allclose, ... cannot make a check pass. The comparisons below use
# ndarray operators (abs, -, <=), which cannot be monkeypatched from Python.
_isfinite = np.isfinite
_isnan = np.isnan
_asarray = np.asarray
_where = np.where


# --------------------------------------------------------------------------
# The failure type and message helpers
# --------------------------------------------------------------------------
class CheckFailed(AssertionError):
    """A visible test failed; the message explains what is wrong.

    The message is ``"✗ <name>: <problem>"``, then indented detail lines, then
    ``"Hint: <hint>"`` when the notebook gave a hint. The parts are kept as the
    attributes ``name``, ``problem``, ``details`` (list of str) and ``hint``.
    """

    def __init__(self, name, problem, details=(), hint=None):
        self.name = str(name)
        self.problem = str(problem)
        self.details = [str(d) for d in details if d]
        self.hint = hint
        lines = [f"✗ {self.name}: {self.problem}"]
        for detail in self.details:
            lines.extend("  " + line for line in detail.splitlines())
        if hint:
            lines.append(f"Hint: {hint}")
        super().__init__("\n".join(lines))

    def _render_traceback_(self):
        # IPython shows these lines instead of a traceback through the kit's internals:
        # the message names the check, what differs and how to fix it.
        return ["\x1b[0;31mCheckFailed\x1b[0m: " + str(self).splitlines()[0], *str(self).splitlines()[1:]]


def _fmt(value) -> str:
    """A number as a short string (6 significant digits)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{complex(value):.6g}"
    return f"{float(value):.6g}"


def _fmt_index(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _validate_common(func, name, hint, rtol=None, atol=None):
    """Validate the arguments every check takes (raises TypeError/ValueError)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"{func}: `name` must be a non-empty str, got {describe(name)}")
    if hint is not None and not isinstance(hint, str):
        raise TypeError(f"{func}: `hint` must be a str or None, got {describe(hint)}")
    for arg, tol in (("rtol", rtol), ("atol", atol)):
        if tol is None:
            continue
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
            raise TypeError(f"{func}: `{arg}` must be a non-negative number, got {describe(tol)}")
        if not tol >= 0:
            raise ValueError(f"{func}: `{arg}` must be a non-negative number, got {tol!r}")


def _as_expected_array(func, expected) -> np.ndarray:
    """The reference value as a numeric array (the instructor's input: TypeError)."""
    if expected is None or isinstance(expected, (str, bytes, dict, set)):
        raise TypeError(f"{func}: `expected` must be array-like of numbers, got {describe(expected)}")
    arr = tensor_to_numpy(expected) if is_tensor(expected) else expected
    try:
        arr = _asarray(arr)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{func}: `expected` must be array-like of numbers, "
                        f"got {describe(expected)} ({err})") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{func}: `expected` must be array-like of numbers, "
                        f"got {describe(expected)} (dtype {arr.dtype})")
    return arr


_KIND_NAMES = {"b": "boolean", "i": "integer", "u": "integer", "f": "floating point",
               "c": "complex"}


# --------------------------------------------------------------------------
# check_array and its steps
# --------------------------------------------------------------------------
def check_array(name, got, expected, *, rtol=1e-6, atol=1e-8, hint=None) -> None:
    """Check that ``got`` equals the array ``expected`` (within tolerance).

    Reports the first problem found, in this order: ``got`` is None; ``got``
    is not an array (a numpy array is required when ``expected`` is one, a
    torch tensor when ``expected`` is one, anything array-like otherwise); the
    shape differs; the dtype kind differs (bool / integer / float / complex);
    ``got`` holds nan or inf where ``expected`` is finite; values differ, i.e.
    ``|got - expected| > atol + rtol * |expected|`` somewhere (nan matches nan).

    Inputs:
    - name: str, what is being checked (shown in the message).
    - got: the student's value, any shape S.
    - expected: array-like of numbers of shape S (the reference).
    - rtol, atol: non-negative tolerances.
    - hint: optional str shown after a failure.

    Prints ``✓ <name> matches (largest error ...)`` on success and raises
    :class:`CheckFailed` otherwise.
    """
    __tracebackhide__ = True
    _validate_common("check_array", name, hint, rtol, atol)
    exp = _as_expected_array("check_array", expected)
    arr = _coerce_got(name, got, expected, exp, hint)
    _compare_shapes(name, arr.shape, exp.shape, hint)
    _compare_kinds(name, arr.dtype, exp.dtype, hint)
    _compare_finite(name, arr, exp, hint)
    largest = _compare_values(name, arr, exp, rtol, atol, hint)
    print(f"✓ {name} matches (largest error {largest:.1e})")


def _coerce_got(name, got, expected, exp, hint) -> np.ndarray:
    """``got`` as an ndarray, or CheckFailed saying why it is not one."""
    __tracebackhide__ = True
    if got is None:
        raise CheckFailed(name, "your function returned None — did you forget `return`?",
                          hint=hint)
    if is_tensor(expected):
        if not is_tensor(got):
            raise CheckFailed(name, f"expected a torch.Tensor, got {describe(got)}",
                              ["build the result with torch operations (or torch.as_tensor)"],
                              hint)
        return tensor_to_numpy(got)
    if isinstance(expected, np.ndarray) and not isinstance(got, np.ndarray):
        if exp.ndim == 0 and isinstance(got, (np.generic, numbers.Number)):
            return _asarray(got)
        if is_tensor(got):
            detail = "convert it with `.detach().numpy()`, or stay in numpy throughout"
        else:
            detail = "wrap it with np.array(...) or build it with numpy operations"
        raise CheckFailed(name, f"expected a numpy array, got {describe(got)}", [detail], hint)
    arr = tensor_to_numpy(got) if is_tensor(got) else got
    try:
        arr = _asarray(arr)
    except (ValueError, TypeError):
        raise CheckFailed(name, f"could not turn your result into an array: got {describe(got)}",
                          ["are some rows longer than others?"], hint) from None
    if arr.dtype.kind not in "biufc":
        raise CheckFailed(name, f"expected numbers, got {describe(got)} (dtype {arr.dtype})",
                          ["an array of dtype object usually holds arrays or None inside"],
                          hint)
    return arr


def _shape_advice(got, want) -> str:
    """Explain a shape difference in words (flat vs column, transpose, ...)."""
    if len(got) == 1 and len(want) == 2 and want == (got[0], 1):
        return (f"you returned a flat vector; keep the column shape {want} "
                f"(e.g. `.reshape(-1, 1)`)")
    if len(got) == 1 and len(want) == 2 and want == (1, got[0]):
        return f"you returned a flat vector; keep the row shape {want}"
    if len(got) == 2 and len(want) == 1 and got in ((want[0], 1), (1, want[0])):
        return f"you returned a 2-D array; expected a flat vector of shape {want} (e.g. `.ravel()`)"
    if len(got) == 2 and got == want[::-1]:
        return ("this is the transpose of the expected shape: check the order of a matrix "
                "product or a missing/extra `.T`")
    squeezed_got = tuple(n for n in got if n != 1)
    squeezed_want = tuple(n for n in want if n != 1)
    if squeezed_got == squeezed_want:
        what = "an extra" if len(got) > len(want) else "a missing"
        if len(got) == len(want):
            what = "a misplaced"
        return f"your result has {what} axis of size 1 (check keepdims=, reshape or indexing)"
    if np.prod(got, dtype=np.int64) == np.prod(want, dtype=np.int64):
        return "same number of entries but arranged differently: check reshape or the axis order"
    if len(got) == len(want):
        axes = [f"axis {i} has {g} entries, expected {w}"
                for i, (g, w) in enumerate(zip(got, want)) if g != w]
        return "; ".join(axes)
    return f"got {len(got)} axes, expected {len(want)}"


def _compare_shapes(name, got, want, hint) -> None:
    __tracebackhide__ = True
    if tuple(got) != tuple(want):
        raise CheckFailed(name, f"wrong shape: got {tuple(got)}, expected {tuple(want)}",
                          [_shape_advice(tuple(got), tuple(want))], hint)


def _kind(dtype) -> str:
    return "i" if dtype.kind == "u" else dtype.kind


def _compare_kinds(name, got, want, hint) -> None:
    __tracebackhide__ = True
    if _kind(got) == _kind(want):
        return
    advice = {
        ("i", "f"): "integer arrays drop fractions: create arrays with a float dtype "
                    "(np.zeros(shape) is float; np.zeros(shape, dtype=int) is not)",
        ("f", "i"): "expected whole numbers such as indices or counts "
                    "(np.argmax and len() give integers)",
        ("c", "f"): "your result is complex: look for a square root or log of a negative number",
        ("b", "f"): "you returned booleans (a comparison?) where numbers were expected",
    }.get((_kind(got), _kind(want)), "")
    raise CheckFailed(name, f"wrong dtype: got {got} ({_KIND_NAMES[got.kind]}), "
                            f"expected {want} ({_KIND_NAMES[want.kind]})", [advice], hint)


def _compare_finite(name, arr, exp, hint) -> None:
    __tracebackhide__ = True
    if arr.dtype.kind in "biu":
        return
    bad = ~_isfinite(arr) & _isfinite(exp)
    count = int(bad.sum())
    if count == 0:
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    raise CheckFailed(
        name, f"{count} of {arr.size} entries are nan or inf",
        [f"first at index {_fmt_index(first)}: got {_fmt(arr[first])}, "
         f"expected {_fmt(exp[first])}",
         "nan/inf usually come from overflow in exp, the log of 0 or a division by 0"],
        hint)


def _abs_errors(arr, exp):
    """Element-wise |got - expected| and the scale |expected| for rtol.

    Entries where both are nan, or both are the same infinity, count as equal
    (error 0); nan against a number is an infinite error.
    """
    work = np.complex128 if "c" in (arr.dtype.kind, exp.dtype.kind) else np.float64
    got, ref = arr.astype(work), exp.astype(work)
    same = (got == ref) | (_isnan(got) & _isnan(ref))
    with np.errstate(invalid="ignore", over="ignore"):
        err = _asarray(abs(got - ref), dtype=np.float64)
    err = _where(same, 0.0, err)
    err = _where(_isnan(err), np.inf, err)  # e.g. nan expected, number given
    # A non-finite reference tolerates nothing (inf * rtol would accept anything).
    scale = _where(_isfinite(ref), _asarray(abs(ref), dtype=np.float64), 0.0)
    return err, scale


def _compare_values(name, arr, exp, rtol, atol, hint) -> float:
    """Largest absolute error, or CheckFailed describing the differences."""
    __tracebackhide__ = True
    if arr.size == 0:
        return 0.0
    err, scale = _abs_errors(arr, exp)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(err <= atol + rtol * scale)
    worst = np.unravel_index(int(err.argmax()), err.shape)
    largest = float(err[worst])
    count = int(bad.sum())
    if count == 0:
        return largest
    details = [f"largest absolute error {largest:.3g} at index {_fmt_index(worst)}: "
               f"got {_fmt(arr[worst])}, expected {_fmt(exp[worst])}",
               f"(tolerance |got - expected| <= atol + rtol·|expected|, "
               f"rtol={rtol:g}, atol={atol:g})"]
    details += _pattern_notes(arr, exp, rtol, atol)
    if arr.size <= _SMALL:
        details.append(_side_by_side(arr, exp, bad))
    raise CheckFailed(name, f"{count} of {arr.size} entries differ from the expected values",
                      details, hint)


def _close(arr, exp, rtol, atol) -> bool:
    err, scale = _abs_errors(arr, exp)
    with np.errstate(invalid="ignore"):
        return bool((err <= atol + rtol * scale).all())


def _pattern_notes(arr, exp, rtol, atol) -> list:
    """Recognisable mistakes: sign flipped, transposed square matrix, float32."""
    notes = []
    if arr.dtype.kind in "fc" and exp.dtype.kind in "fc" and _close(-arr, exp, rtol, atol):
        notes.append("your values are the expected ones with the sign flipped")
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1] > 1 and _close(arr.T, exp, rtol, atol):
        notes.append("your matrix is the transpose of the expected one")
    if arr.dtype == np.float32 and exp.dtype == np.float64:
        notes.append("note: your array is float32 (about 7 significant digits)")
    return notes


def _side_by_side(arr, exp, bad) -> str:
    rows = [("index", "got", "expected", "")]
    for index in np.ndindex(arr.shape):
        rows.append((_fmt_index(index), _fmt(arr[index]), _fmt(exp[index]),
                     "✗" if bad[index] else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}"
                     .rstrip() for r in rows)


# --------------------------------------------------------------------------
# check_scalar, check_true, check_shape
# --------------------------------------------------------------------------
def _as_number(name, got, hint):
    """``got`` as a python number, or CheckFailed saying why it is not one."""
    __tracebackhide__ = True
    if got is None:
        raise CheckFailed(name, "your function returned None — did you forget `return`?",
                          hint=hint)
    if isinstance(got, (numbers.Number, np.bool_)):  # np.bool_ is no numbers.Number
        return got.item() if isinstance(got, np.generic) else got
    if is_tensor(got) or isinstance(got, np.ndarray):
        arr = tensor_to_numpy(got) if is_tensor(got) else got
        if arr.size != 1:
            raise CheckFailed(name, f"expected a single number, got {describe(got)}",
                              ["did you forget to sum, average or index the array?"], hint)
        if arr.dtype.kind not in "biufc":
            raise CheckFailed(name, f"expected a number, got {describe(got)}", hint=hint)
        return arr.reshape(()).item()
    raise CheckFailed(name, f"expected a number, got {describe(got)}", hint=hint)


def check_scalar(name, got, expected, *, rtol=1e-6, atol=1e-8, hint=None) -> None:
    """Check that the number ``got`` equals ``expected`` within tolerance.

    Inputs:
    - name: str shown in the message.
    - got: python or numpy number, or an array/tensor with exactly one entry
      (any shape with size 1); a larger array fails with its shape.
    - expected: the reference number (python/numpy scalar or size-1 array).
    - rtol, atol: passes when ``|got - expected| <= atol + rtol * |expected|``;
      nan matches only nan.
    - hint: optional str shown after a failure.
    """
    __tracebackhide__ = True
    _validate_common("check_scalar", name, hint, rtol, atol)
    ref = _as_expected_array("check_scalar", expected)
    if ref.size != 1:
        raise ValueError(f"check_scalar: `expected` must be a single number, "
                         f"got {describe(expected)}")
    ref = ref.reshape(()).item()
    value = _as_number(name, got, hint)
    if isinstance(value, complex) and value.imag != 0 and not isinstance(ref, complex):
        raise CheckFailed(name, f"got the complex number {value}, expected a real number",
                          ["look for a square root or log of a negative number"], hint)
    value = value.real if isinstance(value, complex) and not isinstance(ref, complex) else value
    err, scale = _abs_errors(_asarray(value), _asarray(ref))
    error = float(err)
    if error <= atol + rtol * float(scale):
        print(f"✓ {name} matches (error {error:.1e})")
        return
    details = [f"absolute error {error:.3g}"]
    if ref != 0 and value != 0 and _isfinite(ref) and _isfinite(value):
        details.append(f"ratio got / expected = {value / ref:.6g}")
    problem = (f"got {_fmt(value)}, which is not finite; expected {_fmt(ref)}"
               if not _isfinite(value) else f"got {_fmt(value)}, expected {_fmt(ref)}")
    raise CheckFailed(name, problem, details, hint)


def check_true(name, condition, message, *, hint=None) -> None:
    """Pass when ``condition`` is true; else raise CheckFailed(name, message).

    Inputs:
    - name: str shown in the message.
    - condition: a single truth value (bool, numpy bool, size-1 array).
    - message: str saying what is wrong when the condition is false.
    - hint: optional str shown after a failure.
    """
    __tracebackhide__ = True
    _validate_common("check_true", name, hint)
    if not isinstance(message, str):
        raise TypeError(f"check_true: `message` must be a str, got {describe(message)}")
    # A non-empty list (or str) is always truthy, so the check could never fail.
    if ((isinstance(condition, np.ndarray) and condition.size != 1)
            or (is_tensor(condition) and condition.numel() != 1)
            or isinstance(condition, (list, tuple, set, dict, str, bytes))):
        raise TypeError(f"check_true: `condition` must be a single truth value, got "
                        f"{describe(condition)} (use .all() or .any(), or all(...))")
    if not bool(condition):
        raise CheckFailed(name, message, hint=hint)
    print(f"✓ {name}")


def _validate_shape_arg(shape):
    if not isinstance(shape, (tuple, list)) or not all(
            n is None or (isinstance(n, (numbers.Integral, np.integer))
                          and not isinstance(n, bool) and n >= 0) for n in shape):
        raise TypeError(f"check_shape: `shape` must be a tuple of non-negative ints "
                        f"(None for any size), got {describe(shape)}")
    return tuple(None if n is None else int(n) for n in shape)


def check_shape(name, got, shape, *, hint=None) -> None:
    """Check that the array ``got`` has shape ``shape``.

    Inputs:
    - name: str shown in the message.
    - got: numpy array or torch tensor (anything with a ``.shape``).
    - shape: tuple of ints; ``None`` in a position accepts any size there,
      e.g. ``(None, 1)`` for any column vector.
    - hint: optional str shown after a failure.
    """
    __tracebackhide__ = True
    _validate_common("check_shape", name, hint)
    want = _validate_shape_arg(shape)
    shown = "(" + ", ".join("any" if n is None else str(n) for n in want) + \
            ("," if len(want) == 1 else "") + ")"
    if got is None:
        raise CheckFailed(name, "your function returned None — did you forget `return`?",
                          hint=hint)
    got_shape = getattr(got, "shape", None)
    if not isinstance(got_shape, tuple) and not is_tensor(got):
        raise CheckFailed(name, f"expected an array of shape {shown}, got {describe(got)}",
                          ["wrap it with np.array(...) or build it with numpy operations"], hint)
    got_shape = tuple(int(n) for n in got_shape)
    if len(got_shape) == len(want):
        want = tuple(g if w is None else w for g, w in zip(got_shape, want))
    if got_shape != want:
        wanted = tuple(1 if n is None else n for n in want)
        raise CheckFailed(name, f"wrong shape: got {got_shape}, expected {shown}",
                          [_shape_advice(got_shape, wanted)], hint)
    print(f"✓ {name} has shape {got_shape}")


# --------------------------------------------------------------------------
# Expected values stored by the kit (their storage: helpers/expected_values.py)
# --------------------------------------------------------------------------
def check_expected(key, got, *, rtol=1e-6, atol=1e-8, hint=None) -> None:
    """Compare ``got`` with the value the kit stored under ``key``.

    The key ``"a1.softmax.basic"`` is read from ``<expected dir>/a1.json``.
    Arrays are checked with :func:`check_array` (a value recorded from a numpy
    array must be given as a numpy array, one recorded from a torch tensor as
    a tensor, one recorded from a list as anything array-like), scalars with
    :func:`check_scalar`; the key is the name shown in messages.

    Record mode (``$RNN_KIT_RECORD_EXPECTED`` set to a directory): stores
    ``got`` instead of checking and prints ``recorded <key>``.

    Raises :class:`MissingExpectedValue` (a KeyError) when nothing is stored
    under ``key``.
    """
    __tracebackhide__ = True
    split_key("check_expected", key)
    _validate_common("check_expected", key, hint, rtol, atol)
    if record_dir() is not None:
        if got is None:
            raise CheckFailed(key, "your function returned None — did you forget `return`?",
                              hint=hint)
        record(key, got)
        return
    stored, value = lookup("check_expected", key)
    if stored["kind"] == "scalar":
        check_scalar(key, got, value, rtol=rtol, atol=atol, hint=hint)
        return
    container = stored.get("container", "numpy")
    if container == "torch":
        import torch  # only notebooks that recorded tensors get here
        value = torch.from_numpy(value)
    elif container == "list":
        value = value.tolist()
    check_array(key, got, value, rtol=rtol, atol=atol, hint=hint)
