"""Tests for helpers.gradcheck, with torch autograd (float64) as the oracle."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.checks import CheckFailed
from helpers.gradcheck import (GradCheckReport, ParamResult, gradient_check, numerical_gradient,
                               relative_error)


def autograd(loss_of, *arrays):
    """Gradients of ``loss_of(*tensors)`` with respect to each array, by torch autograd."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    loss_of(*tensors).backward()
    return [t.grad.numpy() for t in tensors]


@pytest.fixture
def problem():
    """A small RNN-like loss: softmax cross-entropy of Why @ tanh(Wxh @ x + bh)."""
    rng = np.random.default_rng(3)
    params = {"Wxh": rng.normal(scale=0.5, size=(4, 3)), "bh": rng.normal(scale=0.5, size=(4, 1)),
              "Why": rng.normal(scale=0.5, size=(5, 4))}  # small: no saturated tanh unit
    x, target = rng.normal(scale=0.5, size=(3, 1)), 2

    def loss_of(Wxh, bh, Why, x, lib):  # the same formula for numpy and torch
        y = Why @ lib.tanh(Wxh @ x + bh)
        return -(y[target, 0] - lib.log(lib.exp(y).sum()))

    def f():
        return loss_of(params["Wxh"], params["bh"], params["Why"], x, np)

    def torch_loss(Wxh, bh, Why):
        return loss_of(Wxh, bh, Why, torch.from_numpy(x), torch)

    true = dict(zip(["dWxh", "dbh", "dWhy"],
                    autograd(torch_loss, params["Wxh"], params["bh"], params["Why"])))
    # no near-zero gradient, where the relative error would only measure noise
    assert min(np.abs(g).min() for g in true.values()) > 1e-4
    return f, params, true


# --------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------
def test_numerical_gradient_matches_autograd_for_tanh_squared():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    num = numerical_gradient(lambda: np.sum(np.tanh(W @ x) ** 2), W)
    (true,) = autograd(lambda Wt: torch.sum(torch.tanh(Wt @ torch.from_numpy(x)) ** 2), W)
    assert num.shape == W.shape and num.dtype == np.float64
    assert relative_error(num, true) < 1e-7
    assert np.abs(true).min() > 1e-4  # the comparison is not between near-zeros


def test_numerical_gradient_matches_autograd_for_softmax_cross_entropy(problem):
    f, params, true = problem
    for name in params:
        num = numerical_gradient(f, params[name])
        assert relative_error(num, true["d" + name]) < 1e-7, name


def test_numerical_gradient_of_a_torch_loss_and_a_0d_parameter():
    x = np.array(0.7)
    num = numerical_gradient(lambda: torch.tensor(x.item(), dtype=torch.float64) ** 3, x)
    assert num.shape == ()  # a torch scalar loss, a 0-d parameter
    assert num == pytest.approx(3 * 0.7 ** 2, rel=1e-8)
    num = numerical_gradient(lambda: np.sin(x) * np.ones((1, 1)), x)  # size-1 array loss
    assert num == pytest.approx(np.cos(0.7), rel=1e-9)


def test_numerical_gradient_divides_by_the_step_actually_taken_in_float32():
    x = np.array([3.0, -2.0], dtype=np.float32)
    num = numerical_gradient(lambda: float(np.sum(x.astype(np.float64) * [5.0, 7.0])), x, h=1e-3)
    # linear loss: exact up to float64 rounding whatever rounding x +- h suffered
    np.testing.assert_allclose(num, [5.0, 7.0], rtol=1e-9)


def test_numerical_gradient_restores_the_array_exactly():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3))
    x[0, 0] = -0.0
    before = x.copy()
    numerical_gradient(lambda: np.sum(np.exp(x)), x, h=1e-3)
    assert np.array_equal(x, before) and np.signbit(x[0, 0])  # bit for bit, -0.0 included


def test_numerical_gradient_restores_the_array_when_f_raises():
    x = np.arange(4.0)
    calls = []

    def f():
        calls.append(x.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return x.sum()

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, np.arange(4.0))
    assert calls[2][1] != 1.0  # the failure happened while x[1] was perturbed


def test_numerical_gradient_works_through_a_view():
    base = np.arange(6.0).reshape(2, 3)
    view = base.T  # not contiguous, still writeable: perturbing it perturbs base
    num = numerical_gradient(lambda: np.sum(base ** 2), view)
    np.testing.assert_allclose(num, 2 * base.T, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("x, error, match", [
    (np.arange(3), TypeError, r"numerical_gradient: `x` must be a float numpy array, got dtype int64"
                              r".*astype\(np.float64\)"),
    ([1.0, 2.0], TypeError, r"numerical_gradient: `x` must be a float numpy array, got list"),
    (torch.ones(2, dtype=torch.float64), TypeError,
     r"`x` must be a float numpy array, got torch.Tensor"),
])
def test_numerical_gradient_rejects_bad_x(x, error, match):
    with pytest.raises(error, match=match):
        numerical_gradient(lambda: 0.0, x)


def test_numerical_gradient_rejects_a_read_only_array():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match=r"numerical_gradient: `x` must be writeable .*read-only"):
        numerical_gradient(lambda: x.sum(), x)


def test_numerical_gradient_rejects_bad_f_and_h():
    x = np.ones(3)
    with pytest.raises(TypeError, match=r"numerical_gradient: `f` must be a function taking no "
                                        r"arguments .*got float 1.0"):
        numerical_gradient(1.0, x)
    with pytest.raises(TypeError, match=r"numerical_gradient: `f\(\)` must return a single real "
                                        r"number .*got ndarray of shape \(3,\)"):
        numerical_gradient(lambda: x * 2, x)
    with pytest.raises(TypeError, match=r"`f\(\)` must return a single real number .*got str"):
        numerical_gradient(lambda: "1.0", x)
    for h in (0, -1e-5, float("inf"), float("nan"), "1e-5", True):
        with pytest.raises(ValueError, match=r"numerical_gradient: `h` must be a positive finite"):
            numerical_gradient(lambda: x.sum(), x, h=h)


def test_numerical_gradient_h_lost_to_rounding_is_a_clear_error():
    x = np.array([1.0, 1000.0], dtype=np.float32)
    with pytest.raises(ValueError, match=r"numerical_gradient: `h` = 1e-05 is too small for "
                                         r"x\[1\] = 1000 in float32.*larger h or float64"):
        numerical_gradient(lambda: float(x.sum()), x)
    assert np.array_equal(x, np.array([1.0, 1000.0], dtype=np.float32))


def test_numerical_gradient_reports_a_non_finite_loss_and_where():
    x = np.array([0.0, 1e-6])
    with pytest.raises(FloatingPointError, match=r"numerical_gradient: `f\(\)` returned -inf "
                                                 r"with x\[1\] - h"):
        numerical_gradient(lambda: np.log(x[1]) if x[1] > 0 else -np.inf, x, h=1e-5)
    assert np.array_equal(x, [0.0, 1e-6])


# --------------------------------------------------------------------------
# relative_error
# --------------------------------------------------------------------------
def test_relative_error_conventions():
    assert relative_error(0.0, 0.0) == 0.0                  # zero / zero is no error
    assert relative_error(1.0, -1.0) == 1.0                 # opposite signs: the maximum
    assert relative_error(3.0, 1.0) == pytest.approx(0.5)   # |3 - 1| / (3 + 1)
    assert relative_error(1e-9, 0.0) == pytest.approx(0.1)  # floor 1e-8 in the denominator
    assert relative_error(2e-8, 0.0) == 1.0                 # above the floor: relative again
    assert relative_error([1.0, 2.0, 4.0], [1.0, 2.0, 2.0]) == pytest.approx(1 / 3)  # largest
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0
    assert np.isnan(relative_error([1.0, np.nan], [1.0, 0.0]))
    assert relative_error(np.arange(3), np.arange(3.0)) == 0.0  # ints are fine here
    assert relative_error(torch.tensor([1.0]), [1.0]) == 0.0


def test_relative_error_rejects_bad_input():
    with pytest.raises(ValueError, match=r"relative_error: `a` and `b` must have the same shape, "
                                         r"got \(3, 1\) and \(3,\)"):
        relative_error(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(TypeError, match=r"relative_error: `b` must be array-like of real numbers, "
                                        r"got str"):
        relative_error(1.0, "1.0")
    with pytest.raises(TypeError, match=r"relative_error: `a` must be array-like of real numbers"):
        relative_error([[1.0], [1.0, 2.0]], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"`a` must be array-like of real numbers"):
        relative_error(1j, 1.0)


# --------------------------------------------------------------------------
# gradient_check
# --------------------------------------------------------------------------
def test_gradient_check_passes_correct_gradients_and_restores_params(problem):
    f, params, true = problem
    before = {k: v.copy() for k, v in params.items()}
    report = gradient_check(f, params, true)
    assert isinstance(report, GradCheckReport) and report.ok
    assert [r.name for r in report.results] == ["Wxh", "bh", "Why"]
    for r in report.results:
        assert r.status == "ok" and r.checked == r.total == params[r.name].size
        assert r.max_rel_error < 1e-7 and r.worst == []
    assert report.raise_if_failed() is report
    text = str(report)
    assert text.splitlines()[0] == "Gradient check (h=1e-05, tol=1e-06): 3 of 3 parameters OK"
    assert text.count("✓") == 3 and "✗" not in text
    for name in params:
        assert np.array_equal(params[name], before[name])


def test_gradient_check_accepts_gradients_named_like_the_parameters(problem):
    f, params, true = problem
    grads = {name: true["d" + name] for name in params}
    assert gradient_check(f, params, grads).ok


def test_gradient_check_reports_one_wrong_entry(problem):
    f, params, true = problem
    wrong = dict(true)
    wrong["dWhy"] = true["dWhy"].copy()
    wrong["dWhy"][3, 1] += 0.5
    report = gradient_check(f, params, wrong)
    assert not report.ok
    assert [r.status for r in report.results] == ["ok", "ok", "mismatch"]
    result = report["Why"]
    assert len(result.worst) == 1
    index, analytic, numerical = result.worst[0]
    assert index == (3, 1)
    assert analytic == wrong["dWhy"][3, 1]
    assert numerical == pytest.approx(true["dWhy"][3, 1], rel=1e-6)
    assert result.max_rel_error == pytest.approx(relative_error(analytic, numerical))
    text = str(report)
    assert "2 of 3 parameters OK" in text and "MISMATCH" in text and "at [3, 1]: analytic" in text
    with pytest.raises(CheckFailed, match=r"1 of 3 parameters failed \(Why\)") as info:
        report.raise_if_failed()
    assert "at [3, 1]" in str(info.value)


def test_gradient_check_lists_the_worst_entries_first(problem):
    f, params, true = problem
    wrong = dict(true, dWxh=true["dWxh"] * 1.0)
    wrong["dWxh"][0, :] *= -1  # a whole row with the wrong sign
    wrong["dWxh"][2, 2] *= 1.01
    result = gradient_check(f, params, wrong)["Wxh"]
    assert result.status == "mismatch"
    assert sorted(i for i, _, _ in result.worst[:3]) == [(0, 0), (0, 1), (0, 2)]
    assert result.worst[3][0] == (2, 2)
    errors = [relative_error(a, n) for _, a, n in result.worst]
    assert errors == sorted(errors, reverse=True)


def test_gradient_check_reports_a_transposed_gradient_as_a_shape_problem(problem):
    f, params, true = problem
    report = gradient_check(f, params, dict(true, dWxh=true["dWxh"].T))
    result = report["Wxh"]
    assert result.status == "shape" and result.max_rel_error is None
    assert result.message == "dWxh has shape (3, 4) but Wxh has shape (4, 3)"
    assert "✗ Wxh  shape: dWxh has shape (3, 4)" in str(report)


def test_gradient_check_reports_missing_and_unusable_gradients(problem):
    f, params, true = problem
    grads = {"dWxh": true["dWxh"], "dbh": None, "dWhy": "not an array"}
    report = gradient_check(f, params, grads)
    assert [r.status for r in report.results] == ["ok", "missing", "missing"]
    assert report["bh"].message == "no gradient 'dbh' (or 'bh') in grads"
    assert "grads['dWhy'] is not an array of numbers" in report["Why"].message
    with pytest.raises(KeyError, match=r"no parameter 'b'"):
        report["b"]
    html = report._repr_html_()
    assert html.count("<tr>") == 4 and "missing" in html


def test_gradient_check_max_entries_samples_reproducibly(problem):
    f, params, true = problem
    wrong = dict(true, dWhy=true["dWhy"] + 1.0)  # every entry wrong
    first = gradient_check(f, params, wrong, max_entries=4)
    again = gradient_check(f, params, wrong, max_entries=4)
    result = first["Why"]
    assert result.checked == 4 and result.total == 20 and result.status == "mismatch"
    assert "4 of 20 entries" in str(first)
    assert [w[0] for w in result.worst] == [w[0] for w in again["Why"].worst]
    other = gradient_check(f, params, wrong, max_entries=4, rng=np.random.default_rng(99))
    assert other["Why"].checked == 4


def test_gradient_check_atol_accepts_noise_around_a_zero_gradient():
    w = np.array([0.0, 1.0])
    # d/dw0 of w0**4 at 0 is 0; finite differences give exactly 0 here, so the
    # analytic 1e-9 has relative error 0.1 but absolute error 1e-9
    grads = {"dw": np.array([1e-9, 4.0])}
    assert not gradient_check(lambda: np.sum(w ** 4), {"w": w}, grads).ok
    assert gradient_check(lambda: np.sum(w ** 4), {"w": w}, grads, atol=1e-8).ok


@pytest.mark.parametrize("kwargs, error, match", [
    ({"f": "loss"}, TypeError, r"gradient_check: `f` must be a function"),
    ({"params": {}}, TypeError, r"`params` must be a non-empty dict .*got dict of length 0"),
    ({"params": [np.ones(2)]}, TypeError, r"`params` must be a non-empty dict"),
    ({"params": {"w": np.ones(2, dtype=int)}}, TypeError,
     r"gradient_check: `params\['w'\]` must be a float numpy array, got dtype int"),
    ({"params": {1: np.ones(2)}}, TypeError, r"parameter names must be str, got int 1"),
    ({"grads": [np.ones(2)]}, TypeError, r"`grads` must be a dict of name -> array"),
    ({"h": 0.0}, ValueError, r"gradient_check: `h` must be a positive finite number"),
    ({"tol": -1.0}, ValueError, r"`tol` must be a non-negative number, got float -1.0"),
    ({"atol": float("nan")}, ValueError, r"`atol` must be a non-negative number"),
    ({"max_entries": 0}, ValueError, r"`max_entries` must be a positive int or None, got int 0"),
    ({"max_entries": 2.0}, ValueError, r"`max_entries` must be a positive int or None"),
    ({"rng": 0}, TypeError, r"`rng` must be a numpy.random.Generator or None, got int 0"),
])
def test_gradient_check_rejects_bad_arguments(kwargs, error, match):
    w = np.ones(2)
    args = {"f": lambda: w.sum(), "params": {"w": w}, "grads": {"dw": np.ones(2)}} | kwargs
    with pytest.raises(error, match=match):
        gradient_check(args.pop("f"), args.pop("params"), args.pop("grads"), **args)


def test_gradient_check_rejects_a_read_only_parameter_before_touching_anything():
    w = np.ones(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match=r"`params\['w'\]` must be writeable"):
        gradient_check(lambda: w.sum(), {"w": w}, {"dw": np.ones(2)})


def test_gradient_check_errors_from_f_name_gradient_check_and_the_parameter():
    w = np.ones(2)
    with pytest.raises(TypeError, match=r"^gradient_check: `f\(\)` must return a single real"):
        gradient_check(lambda: w * 1.0, {"w": w}, {"dw": np.ones(2)})
    with pytest.raises(FloatingPointError, match=r"^gradient_check: `f\(\)` returned nan with "
                                                 r"w\[0\] \+ h"):
        gradient_check(lambda: np.nan, {"w": w}, {"dw": np.ones(2)})
    assert np.array_equal(w, np.ones(2))


def test_param_result_line_formats():
    ok = ParamResult("W", "ok", 1.5e-9, [], 6, 6)
    assert ok.ok and ok.line(3) == "✓ W    max relative error 1.50e-09"
    bad = ParamResult("b", "mismatch", 0.5, [((1, 0), 2.0, 1.0)], 2, 4)
    assert not bad.ok
    assert bad.line(1) == "✗ b  max relative error 5.00e-01, 2 of 4 entries  MISMATCH"
    assert bad.worst_lines() == ["    at [1, 0]: analytic 2, numerical 1"]
