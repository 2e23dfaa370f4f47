"""Numerical gradient checking.

Compare an analytic gradient (the one you derived and coded) with centred
finite differences of the loss::

    report = gradient_check(lambda: loss_fun(inputs, targets, h0, params)[0],
                            params, grads)
    print(report)            # one line per parameter, ✓ or ✗
    report.raise_if_failed()

Relative error convention (used everywhere in this module)::

    rel(a, b) = |a - b| / max(1e-8, |a| + |b|)

taken entry by entry; a check reports the largest entry. The 1e-8 floor keeps
entries where both gradients are (almost) zero from dividing by zero; in
float64 a correct gradient typically gives 1e-7 or less, a wrong one 1e-2 or
more. Use float64 parameters: in float32 the finite differences themselves
are only good to about 1e-3.
"""
from __future__ import annotations

import html
import numbers
from dataclasses import dataclass, field

import numpy as np

from helpers.checks import CheckFailed
from helpers.values import describe

__all__ = [
    "numerical_gradient",
    "relative_error",
    "gradient_check",
    "GradCheckReport",
    "ParamResult",
]

_FLOOR = 1e-8  # denominator floor of the relative error
_WORST = 5     # worst entries kept per mismatching parameter


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------
def _check_callable(func, f):
    if not callable(f):
        raise TypeError(f"{func}: `f` must be a function taking no arguments that returns "
                        f"the scalar loss, got {describe(f)}")


def _check_float_array(func, arg, x):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{func}: `{arg}` must be a float numpy array, got {describe(x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{func}: `{arg}` must be a float numpy array, got dtype {x.dtype}: "
                        f"the perturbations of size h would be truncated (convert with "
                        f".astype(np.float64))")
    if not x.flags.writeable:
        raise ValueError(f"{func}: `{arg}` must be writeable (it is perturbed in place), "
                         f"got a read-only array")


def _check_step(func, h):
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not (0 < h < np.inf):
        raise ValueError(f"{func}: `h` must be a positive finite number, got {describe(h)}")


def _loss_value(func, f, where) -> float:
    """Call ``f()`` and return its scalar loss as a float."""
    value = f()
    if hasattr(value, "detach"):  # a torch scalar
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(f"{func}: `f()` must return a single real number (the loss), "
                        f"got {describe(value)}")
    loss = float(arr.reshape(()))
    if not np.isfinite(loss):
        raise FloatingPointError(f"{func}: `f()` returned {loss} {where}")
    return loss


# --------------------------------------------------------------------------
# Numerical gradient and relative error
# --------------------------------------------------------------------------
def _numerical_at(func, arg, f, x, indices, h) -> np.ndarray:
    """Centred differences of ``f()`` at the given indices of ``x`` (restored after);
    ``func`` and ``arg`` (the caller and the name of ``x``) are used in error messages."""
    out = np.empty(len(indices))
    for n, index in enumerate(indices):
        old = x[index].copy()  # a numpy scalar: restored bit for bit
        at = f"{arg}[{', '.join(map(str, index))}]"
        try:
            x[index] = old + h
            plus_x = x[index].copy()
            plus = _loss_value(func, f, f"with {at} + h")
            x[index] = old - h
            minus_x = x[index].copy()
            minus = _loss_value(func, f, f"with {at} - h")
        finally:
            x[index] = old
        step = float(plus_x) - float(minus_x)
        if step == 0:
            also = "" if x.dtype == np.float64 else " or float64 parameters"
            raise ValueError(f"{func}: `h` = {h:g} is too small for {at} = {float(old):g} in "
                             f"{x.dtype}: {at} ± h rounds back to {at}; use a larger h{also}")
        # Divide by the step actually taken: old ± h is rounded to x's dtype.
        out[n] = (plus - minus) / step
    return out


def numerical_gradient(f, x, *, h=1e-5) -> np.ndarray:
    """Centred finite-difference gradient of the scalar ``f()`` with respect to ``x``.

    Each entry ``x[i]`` is set to ``x[i] + h`` and ``x[i] - h`` in place,
    ``f()`` is called, and the entry is restored exactly (also when ``f``
    raises). The slope is ``(f(x + h) - f(x - h)) / step`` where ``step`` is
    the perturbation actually stored (≈ 2h).

    Inputs:
    - f: function of no arguments returning the loss (number or size-1 array)
      computed from the current contents of ``x``.
    - x: float ndarray of any shape S, modified in place during the call.
    - h: positive step.

    Returns:
    - grad: float64 ndarray of shape S.
    """
    _check_callable("numerical_gradient", f)
    _check_float_array("numerical_gradient", "x", x)
    _check_step("numerical_gradient", h)
    indices = list(np.ndindex(x.shape))
    return _numerical_at("numerical_gradient", "x", f, x, indices, h).reshape(x.shape)


def _rel_errors(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(_FLOOR, np.abs(a) + np.abs(b))


def relative_error(a, b) -> float:
    """Largest entry-wise relative error ``|a - b| / max(1e-8, |a| + |b|)``.

    Inputs:
    - a, b: real array-likes of the same shape S (python numbers allowed).

    Returns:
    - float in [0, 1] (nan when an entry is nan); 0.0 for empty arrays.
    """
    arrays = []
    for arg, value in (("a", a), ("b", b)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            arr = np.asarray(None)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"relative_error: `{arg}` must be array-like of real numbers, "
                            f"got {describe(value)}")
        arrays.append(arr)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"relative_error: `a` and `b` must have the same shape, "
                         f"got {arrays[0].shape} and {arrays[1].shape}")
    if arrays[0].size == 0:
        return 0.0
    return float(np.max(_rel_errors(*arrays)))


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------
@dataclass
class ParamResult:
    """Outcome for one parameter.

    - name: parameter name, e.g. ``"Wxh"``.
    - status: ``"ok"``, ``"mismatch"``, ``"shape"`` or ``"missing"``.
    - max_rel_error: largest relative error over the checked entries (None
      when nothing was compared).
    - worst: for mismatches, up to 5 ``(index, analytic, numerical)`` tuples,
      worst first; ``index`` is a tuple of ints.
    - checked, total: entries compared / entries in the parameter.
    - message: one-line explanation for ``shape`` and ``missing``.
    """

    name: str
    status: str
    max_rel_error: float | None = None
    worst: list = field(default_factory=list)
    checked: int = 0
    total: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self, width: int) -> str:
        mark = "✓" if self.ok else "✗"
        if self.status in ("ok", "mismatch"):
            subset = "" if self.checked == self.total else f", {self.checked} of {self.total} entries"
            text = f"{mark} {self.name:<{width}}  max relative error {self.max_rel_error:.2e}{subset}"
            if self.status == "mismatch":
                text += "  MISMATCH"
            return text
        return f"{mark} {self.name:<{width}}  {self.status}: {self.message}"

    def worst_lines(self) -> list:
        return [f"    at [{', '.join(map(str, idx))}]: analytic {a:.6g}, numerical {n:.6g}"
                for idx, a, n in self.worst]


@dataclass
class GradCheckReport:
    """Result of :func:`gradient_check`: ``ok``, ``results`` (list of
    :class:`ParamResult`), ``h`` and ``tol``; ``str(report)`` is a table."""

    results: list
    h: float
    tol: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def __getitem__(self, name) -> ParamResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"GradCheckReport: no parameter {name!r}; "
                       f"checked {[r.name for r in self.results]}")

    def _header(self) -> str:
        good = sum(r.ok for r in self.results)
        return (f"Gradient check (h={self.h:g}, tol={self.tol:g}): "
                f"{good} of {len(self.results)} parameters OK")

    def __str__(self) -> str:
        width = max((len(r.name) for r in self.results), default=0)
        lines = [self._header()]
        for result in self.results:
            lines.append("  " + result.line(width))
            lines.extend(result.worst_lines())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            error = "" if r.max_rel_error is None else f"{r.max_rel_error:.2e}"
            note = r.message or "; ".join(line.strip() for line in r.worst_lines())
            colour = "#1a7f37" if r.ok else "#cf222e"
            rows.append(f"<tr><td style='color:{colour}'>{'✓' if r.ok else '✗'}</td>"
                        f"<td><code>{html.escape(r.name)}</code></td><td>{r.status}</td>"
                        f"<td>{error}</td><td>{html.escape(note)}</td></tr>")
        return (f"<p>{html.escape(self._header())}</p><table><tr><th></th><th>parameter</th>"
                f"<th>status</th><th>max rel. error</th><th>details</th></tr>"
                + "".join(rows) + "</table>")

    def raise_if_failed(self) -> "GradCheckReport":
        """Raise :class:`CheckFailed` with the table unless every parameter is OK."""
        __tracebackhide__ = True
        if not self.ok:
            bad = [r.name for r in self.results if not r.ok]
            raise CheckFailed("gradient check", f"{len(bad)} of {len(self.results)} parameters "
                              f"failed ({', '.join(bad)})", [str(self)],
                              hint="look at the worst entries: a whole row or column wrong "
                                   "usually means a missing or transposed term")
        return self


# --------------------------------------------------------------------------
# gradient_check
# --------------------------------------------------------------------------
def _find_gradient(name, grads):
    """(key, gradient) for parameter ``name``: ``"d" + name`` first, then ``name``."""
    for key in ("d" + name, name):
        if key in grads and grads[key] is not None:
            return key, grads[key]
    return None, None


def _pick_indices(shape, max_entries, rng):
    indices = list(np.ndindex(shape))
    if max_entries is None or len(indices) <= max_entries:
        return indices
    chosen = np.sort(rng.choice(len(indices), size=max_entries, replace=False))
    return [indices[i] for i in chosen]


def _validate_check_args(f, params, grads, h, tol, atol, max_entries, rng):
    _check_callable("gradient_check", f)
    if not isinstance(params, dict) or not params:
        raise TypeError(f"gradient_check: `params` must be a non-empty dict of name -> float "
                        f"array, got {describe(params)}")
    for name, value in params.items():
        if not isinstance(name, str):
            raise TypeError(f"gradient_check: parameter names must be str, got {describe(name)}")
        _check_float_array("gradient_check", f"params[{name!r}]", value)
    if not isinstance(grads, dict):
        raise TypeError(f"gradient_check: `grads` must be a dict of name -> array "
                        f"(e.g. {{'dWxh': ...}}), got {describe(grads)}")
    _check_step("gradient_check", h)
    for arg, value in (("tol", tol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"gradient_check: `{arg}` must be a non-negative number, "
                             f"got {describe(value)}")
    if max_entries is not None and (isinstance(max_entries, bool)
                                    or not isinstance(max_entries, numbers.Integral)
                                    or max_entries < 1):
        raise ValueError(f"gradient_check: `max_entries` must be a positive int or None, "
                         f"got {describe(max_entries)}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"gradient_check: `rng` must be a numpy.random.Generator or None, "
                        f"got {describe(rng)}")


def _check_one(f, name, param, grads, h, tol, atol, max_entries, rng) -> ParamResult:
    key, grad = _find_gradient(name, grads)
    if key is None:
        return ParamResult(name, "missing", total=param.size,
                           message=f"no gradient 'd{name}' (or '{name}') in grads")
    try:
        grad = np.asarray(grad, dtype=np.float64)
    except (TypeError, ValueError):
        return ParamResult(name, "missing", total=param.size,
                           message=f"grads[{key!r}] is not an array of numbers: {describe(grad)}")
    if grad.shape != param.shape:
        return ParamResult(name, "shape", total=param.size,
                           message=f"{key} has shape {grad.shape} but {name} has shape {param.shape}")
    indices = _pick_indices(param.shape, max_entries, rng)
    numerical = _numerical_at("gradient_check", name, f, param, indices, h)
    analytic = np.array([grad[i] for i in indices])
    errors = _rel_errors(analytic, numerical)
    bad = ~((errors <= tol) | (np.abs(analytic - numerical) <= atol))
    order = np.argsort(-np.nan_to_num(errors, nan=np.inf), kind="stable")
    status = "mismatch" if bad.any() else "ok"
    worst = [(tuple(int(i) for i in indices[k]), float(analytic[k]), float(numerical[k]))
             for k in order[:_WORST] if bad[k]]
    max_error = float(np.max(errors)) if len(errors) else 0.0
    return ParamResult(name, status, max_error, worst, len(indices), param.size)


def gradient_check(f, params, grads, *, h=1e-5, tol=1e-6, atol=0.0, max_entries=None,
                   rng=None) -> GradCheckReport:
    """Compare analytic gradients with centred differences, parameter by parameter.

    Inputs:
    - f: function of no arguments returning the scalar loss computed from the
      arrays in ``params`` (they are perturbed in place and restored exactly).
    - params: dict name -> float ndarray, e.g. ``{"Wxh": (H, V), ...}``.
    - grads: dict of analytic gradients; the gradient of ``params[name]`` is
      ``grads["d" + name]`` (the course's naming, e.g. ``dWxh``) or
      ``grads[name]``, with the same shape as the parameter.
    - h: finite-difference step.
    - tol: an entry passes when its relative error (see module docstring)
      is at most ``tol`` ...
    - atol: ... or when ``|analytic - numerical| <= atol`` (default 0: off;
      useful for entries whose true gradient is ~0, where the relative error
      only measures finite-difference noise).
    - max_entries: check at most this many randomly chosen entries per
      parameter (None: all entries).
    - rng: numpy Generator choosing those entries (default: seed 0, so the
      same entries every run).

    Returns:
    - GradCheckReport; a missing gradient or a shape mismatch is reported
      there (status "missing" / "shape"), not raised.
    """
    _validate_check_args(f, params, grads, h, tol, atol, max_entries, rng)
    rng = np.random.default_rng(0) if rng is None else rng
    results = [_check_one(f, name, param, grads, h, tol, atol, max_entries, rng)
               for name, param in params.items()]
    return GradCheckReport(results, h, tol)
