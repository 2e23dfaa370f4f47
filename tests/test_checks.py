"""Tests for helpers.checks: the friendly checks that the visible tests call.

A passing check prints one ``✓`` line; a failing one raises CheckFailed whose
message says what differs. Expected values are recorded into and read back
from JSON files in tmp_path only (never helpers/expected).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from helpers import COURSE_ROOT
from helpers import checks as C
from helpers.checks import (CheckFailed, MissingExpectedValue, check_array, check_expected,
                            check_scalar, check_shape, check_true, expected)


@pytest.fixture(autouse=True)
def _no_expected_env(monkeypatch):
    """The developer's own settings must not leak in: no record mode, default folder."""
    monkeypatch.delenv(C.EXPECTED_DIR_ENV, raising=False)
    monkeypatch.delenv(C.RECORD_ENV, raising=False)


def failure(check, *args, **kwargs) -> CheckFailed:
    """Run a check that must fail and return its exception."""
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------
# CheckFailed
# --------------------------------------------------------------------------
def test_check_failed_is_an_assertion_error_with_its_parts():
    err = CheckFailed("softmax", "2 of 5 entries differ", ["line one\nline two", ""], hint="shift")
    assert isinstance(err, AssertionError)
    assert str(err) == "✗ softmax: 2 of 5 entries differ\n  line one\n  line two\nHint: shift"
    assert (err.name, err.problem, err.details, err.hint) == (
        "softmax", "2 of 5 entries differ", ["line one\nline two"], "shift")


# --------------------------------------------------------------------------
# check_array: passing
# --------------------------------------------------------------------------
def test_check_array_passes_within_tolerance_and_prints_one_line(capsys):
    want = np.array([[0.1, 0.2], [0.3, 0.4]])
    check_array("probs", want + 1e-9, want)
    assert capsys.readouterr().out.strip() == "✓ probs matches (largest error 1.0e-09)"


def test_check_array_tolerance_is_atol_plus_rtol_times_expected(capsys):
    want = np.array([100.0, 0.0])
    check_array("x", want + [1e-4 - 1e-9, 0.0], want, rtol=1e-6, atol=0)  # 1e-4 allowed at 100
    with pytest.raises(CheckFailed):
        check_array("x", want + [0.0, 1e-9], want, rtol=1e-6, atol=0)  # nothing allowed at 0
    check_array("x", want + [0.0, 1e-9], want, rtol=0, atol=1e-8)


def test_check_array_matches_nan_with_nan_and_inf_with_inf(capsys):
    want = np.array([np.nan, np.inf, -np.inf, 1.0])
    check_array("special", want.copy(), want)
    assert "✓ special matches" in capsys.readouterr().out


def test_check_array_accepts_any_array_like_when_expected_is_a_list(capsys):
    check_array("list", np.array([1.0, 2.0]), [1.0, 2.0])
    check_array("tuple", (1.0, 2.0), [1.0, 2.0])
    check_array("tensor", torch.tensor([1.0, 2.0], dtype=torch.float64), [1.0, 2.0])
    assert capsys.readouterr().out.count("✓") == 3


def test_check_array_compares_torch_with_torch(capsys):
    want = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    got = want.clone().requires_grad_(True) * 1.0  # a tensor in a graph is fine
    check_array("tensor", got, want)
    assert "✓ tensor matches" in capsys.readouterr().out


def test_check_array_accepts_a_number_for_a_0d_expected_array(capsys):
    check_array("zero-d", 2.5, np.array(2.5))
    check_array("zero-d numpy", np.float64(2.5), np.array(2.5))
    assert capsys.readouterr().out.count("✓") == 2


def test_check_array_empty_arrays_match(capsys):
    check_array("empty", np.zeros((0, 3)), np.zeros((0, 3)))
    assert "largest error 0.0e+00" in capsys.readouterr().out


# --------------------------------------------------------------------------
# check_array: failing, one problem at a time
# --------------------------------------------------------------------------
def test_check_array_none_asks_about_return():
    err = failure(check_array, "h", None, np.zeros(3))
    assert err.problem == "your function returned None — did you forget `return`?"


@pytest.mark.parametrize("got, want, advice", [
    (np.zeros(5), np.zeros((5, 1)), "flat vector; keep the column shape (5, 1)"),
    (np.zeros(5), np.zeros((1, 5)), "flat vector; keep the row shape (1, 5)"),
    (np.zeros((5, 1)), np.zeros(5), "expected a flat vector of shape (5,)"),
    (np.zeros((2, 3)), np.zeros((3, 2)), "this is the transpose of the expected shape"),
    (np.zeros((1, 4, 1)), np.zeros((4, 1)), "an extra axis of size 1"),
    (np.zeros(4), np.zeros((1, 4, 1)), "a missing axis of size 1"),
    (np.zeros((6,)), np.zeros((2, 3)), "same number of entries but arranged differently"),
    (np.zeros((4, 3)), np.zeros((5, 3)), "axis 0 has 4 entries, expected 5"),
    (np.zeros((2, 3, 4)), np.zeros((5, 7)), "got 3 axes, expected 2"),
])
def test_check_array_shape_mismatch_explains_the_difference(got, want, advice):
    err = failure(check_array, "out", got, want)
    assert err.problem == f"wrong shape: got {got.shape}, expected {want.shape}"
    assert advice in str(err)


@pytest.mark.parametrize("got, want, words", [
    (np.zeros(3, dtype=np.int64), np.zeros(3),
     ["got int64 (integer)", "expected float64 (floating point)", "integer arrays drop fractions"]),
    (np.zeros(3), np.zeros(3, dtype=np.int32), ["got float64", "expected int32 (integer)",
                                                "whole numbers such as indices"]),
    (np.zeros(3, dtype=bool), np.zeros(3), ["got bool (boolean)", "you returned booleans"]),
    (np.zeros(3, dtype=complex), np.zeros(3), ["got complex128 (complex)", "square root or log"]),
])
def test_check_array_dtype_kind_mismatch(got, want, words):
    err = failure(check_array, "arr", got, want)
    assert err.problem.startswith("wrong dtype:")
    for word in words:
        assert word in str(err)


def test_check_array_integer_width_and_float_precision_do_not_matter(capsys):
    check_array("uint vs int", np.arange(3, dtype=np.uint8), np.arange(3, dtype=np.int64))
    check_array("f32 vs f64", np.array([0.5, 0.25], dtype=np.float32), np.array([0.5, 0.25]))
    assert capsys.readouterr().out.count("✓") == 2


def test_check_array_reports_nan_and_inf_with_their_index_and_the_hint():
    want = np.ones((2, 3))
    got = want.copy()
    got[1, 2], got[0, 1] = np.nan, np.inf
    err = failure(check_array, "p", got, want, hint="subtract the max before exp")
    assert err.problem == "2 of 6 entries are nan or inf"
    assert "first at index [0, 1]: got inf, expected 1" in str(err)
    assert str(err).endswith("Hint: subtract the max before exp")


def test_check_array_reports_count_largest_error_and_its_index():
    want = np.zeros((3, 4))
    got = want.copy()
    got[2, 1], got[0, 3] = 0.5, -2.0
    err = failure(check_array, "dWxh", got, want)
    assert err.problem == "2 of 12 entries differ from the expected values"
    assert "largest absolute error 2 at index [0, 3]: got -2, expected 0" in str(err)
    # small arrays are printed side by side, the wrong entries marked
    table = err.details[-1].splitlines()
    assert table[0].split() == ["index", "got", "expected"]
    marked = [line.split("]")[0] + "]" for line in table[1:] if line.endswith("✗")]
    assert marked == ["[0, 3]", "[2, 1]"]


def test_check_array_large_arrays_are_not_printed_in_full():
    want = np.zeros(50)
    got = want.copy()
    got[17] = 1.0
    err = failure(check_array, "big", got, want)
    assert "at index [17]" in str(err)
    assert "index  got" not in str(err)


def test_check_array_nan_where_a_number_is_expected_and_number_where_nan_is():
    err = failure(check_array, "x", np.array([1.0, 2.0]), np.array([1.0, np.nan]))
    assert "1 of 2 entries differ" in err.problem
    assert "at index [1]: got 2, expected nan" in str(err)
    err = failure(check_array, "y", np.array([np.inf]), np.array([-np.inf]))
    assert "1 of 1 entries differ" in err.problem


def test_check_array_recognises_a_flipped_sign_and_a_transposed_matrix():
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "sign flipped" in str(failure(check_array, "s", -want, want))
    assert "transpose of the expected one" in str(failure(check_array, "t", want.T, want))


def test_check_array_notes_float32():
    want = np.array([1.0, 2.0])
    err = failure(check_array, "f32", np.array([1.0, 2.1], dtype=np.float32), want)
    assert "float32" in str(err)


@pytest.mark.parametrize("got, words", [
    ([1.0, 2.0], ["expected a numpy array, got list of length 2", "np.array(...)"]),
    (torch.tensor([1.0, 2.0]), ["expected a numpy array, got torch.Tensor", ".detach().numpy()"]),
    ("1 2", ["expected a numpy array, got str '1 2'"]),
])
def test_check_array_wrong_type_against_numpy(got, words):
    err = failure(check_array, "v", got, np.array([1.0, 2.0]))
    for word in words:
        assert word in str(err)


def test_check_array_wrong_type_against_torch_and_ragged_lists():
    err = failure(check_array, "t", np.array([1.0]), torch.tensor([1.0]))
    assert err.problem == "expected a torch.Tensor, got ndarray of shape (1,) and dtype float64"
    err = failure(check_array, "ragged", [[1.0], [1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]])
    assert "could not turn your result into an array" in err.problem
    err = failure(check_array, "objects", [None, 1.0], [1.0, 2.0])
    assert "expected numbers" in err.problem


# --------------------------------------------------------------------------
# check_scalar, check_true, check_shape
# --------------------------------------------------------------------------
def test_check_scalar_accepts_numbers_and_size_one_arrays(capsys):
    check_scalar("loss", 2.0 + 1e-9, 2.0)
    check_scalar("numpy", np.float32(0.5), 0.5)
    check_scalar("array", np.array([[3.0]]), 3)
    check_scalar("tensor", torch.tensor(1.5), np.float64(1.5))
    check_scalar("nan", float("nan"), float("nan"))
    check_scalar("numpy bool", np.float64(2.0) > 1, True)
    assert capsys.readouterr().out.count("✓") == 6


def test_check_scalar_failures_say_what_differs():
    err = failure(check_scalar, "loss", 2.0, 2.5, hint="sum over time")
    assert err.problem == "got 2, expected 2.5"
    assert "absolute error 0.5" in str(err) and "ratio got / expected = 0.8" in str(err)
    assert err.hint == "sum over time"
    err = failure(check_scalar, "loss", float("inf"), 2.5)
    assert err.problem == "got inf, which is not finite; expected 2.5"
    err = failure(check_scalar, "loss", np.ones(3), 1.0)
    assert "expected a single number, got ndarray of shape (3,)" in err.problem
    assert "forget to sum" in str(err)
    err = failure(check_scalar, "loss", "3", 3.0)
    assert err.problem == "expected a number, got str '3'"
    err = failure(check_scalar, "loss", None, 3.0)
    assert "did you forget `return`?" in err.problem
    err = failure(check_scalar, "root", complex(1, 2), 1.0)
    assert "complex number" in err.problem


def test_check_scalar_expected_must_be_one_number():
    with pytest.raises(ValueError, match=r"check_scalar: `expected` must be a single number"):
        check_scalar("x", 1.0, [1.0, 2.0])


def test_check_true(capsys):
    check_true("positive", np.float64(1.0) > 0, "must be positive")
    check_true("size-one array", np.array([True]), "unused")
    assert capsys.readouterr().out.splitlines() == ["✓ positive", "✓ size-one array"]
    err = failure(check_true, "positive", False, "p must be positive", hint="use exp")
    assert str(err) == "✗ positive: p must be positive\nHint: use exp"


@pytest.mark.parametrize("condition", [
    np.array([True, False]),
    torch.tensor([True, True]),
    [False],              # a non-empty list is truthy: this must not pass silently
    "False",
])
def test_check_true_rejects_conditions_that_are_not_one_truth_value(condition):
    with pytest.raises(TypeError, match=r"check_true: `condition` must be a single truth value"):
        check_true("c", condition, "message")


def test_check_true_message_must_be_a_str():
    with pytest.raises(TypeError, match=r"check_true: `message` must be a str, got int 3"):
        check_true("c", True, 3)


def test_check_shape(capsys):
    check_shape("h", np.zeros((4, 1)), (4, 1))
    check_shape("any column", torch.zeros(7, 1), (None, 1))
    check_shape("list shape", np.zeros(3), [3])
    assert capsys.readouterr().out.splitlines() == [
        "✓ h has shape (4, 1)", "✓ any column has shape (7, 1)", "✓ list shape has shape (3,)"]
    err = failure(check_shape, "h", np.zeros(4), (4, 1))
    assert err.problem == "wrong shape: got (4,), expected (4, 1)"
    assert ".reshape(-1, 1)" in str(err)
    err = failure(check_shape, "col", np.zeros((1, 7)), (None, 1))
    assert err.problem == "wrong shape: got (1, 7), expected (any, 1)"
    err = failure(check_shape, "h", [0.0, 0.0], (2,))
    assert err.problem == "expected an array of shape (2,), got list of length 2"
    err = failure(check_shape, "h", None, (2,))
    assert "did you forget `return`?" in err.problem


@pytest.mark.parametrize("shape", [5, (2, -1), (2.0,), (True,), "5"])
def test_check_shape_rejects_a_bad_shape_argument(shape):
    with pytest.raises(TypeError, match=r"check_shape: `shape` must be a tuple of non-negative ints"):
        check_shape("x", np.zeros(5), shape)


# --------------------------------------------------------------------------
# Bad arguments from the notebook author
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"rtol": -1e-6}, ValueError, r"check_array: `rtol` must be a non-negative number, got -1e-06"),
    ({"atol": float("nan")}, ValueError, r"`atol` must be a non-negative number, got nan"),
    ({"rtol": "1e-6"}, TypeError, r"`rtol` must be a non-negative number, got str '1e-6'"),
    ({"atol": True}, TypeError, r"`atol` must be a non-negative number, got bool True"),
    ({"name": 3}, TypeError, r"check_array: `name` must be a non-empty str, got int 3"),
    ({"name": ""}, TypeError, r"`name` must be a non-empty str"),
    ({"hint": ["a"]}, TypeError, r"`hint` must be a str or None, got list of length 1"),
    ({"expected": "abc"}, TypeError, r"`expected` must be array-like of numbers, got str 'abc'"),
    ({"expected": None}, TypeError, r"`expected` must be array-like of numbers, got None"),
    ({"expected": [[1.0], [1.0, 2.0]]}, TypeError, r"`expected` must be array-like of numbers"),
])
def test_check_array_rejects_bad_arguments(kwargs, error, match):
    args = {"name": "x", "got": np.zeros(2), "expected": np.zeros(2)} | kwargs
    with pytest.raises(error, match=match):
        check_array(args.pop("name"), args.pop("got"), args.pop("expected"), **args)


def test_check_scalar_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"check_scalar: `rtol` must be a non-negative number"):
        check_scalar("x", 1.0, 1.0, rtol=-1)
    with pytest.raises(TypeError, match=r"check_scalar: `name` must be a non-empty str"):
        check_scalar(None, 1.0, 1.0)


# --------------------------------------------------------------------------
# Expected values: record mode, check mode, missing values
# --------------------------------------------------------------------------
def test_record_then_check_round_trip(tmp_path, monkeypatch, capsys):
    values = {
        "t1.array": np.array([[1.5, np.nan], [np.inf, -np.inf]]),
        "t1.f32": np.array([0.1, 0.2], dtype=np.float32),
        "t1.tensor": torch.tensor([1.1, 2.2]),
        "t1.list": [1, 2, 3],
        "t1.int": 3,
        "t1.float": 0.1,
        "t1.bool": np.float64(2.0) > 1,   # a numpy bool, as comparisons return
        "t1.complex": 1 + 2j,
        "t1.carray": np.array([1 + 1j, 2 - 0.5j]),
        "t1.zero-d": np.array(2.5),
        "t1.empty": np.zeros((0, 3)),
    }
    monkeypatch.setenv(C.RECORD_ENV, str(tmp_path / "rec"))
    for key, value in values.items():
        check_expected(key, value)
    assert capsys.readouterr().out.splitlines() == [f"recorded {key}" for key in values]

    # one key per line, sorted, plain JSON (nan/inf as strings)
    path = tmp_path / "rec" / "t1.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and len(lines) == len(values) + 2
    assert [json.loads("{" + line.rstrip(",") + "}").popitem()[0]
            for line in lines[1:-1]] == sorted(values)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["t1.array"]["values"] == [[1.5, "nan"], ["inf", "-inf"]]
    assert stored["t1.tensor"]["container"] == "torch"

    monkeypatch.delenv(C.RECORD_ENV)
    monkeypatch.setenv(C.EXPECTED_DIR_ENV, str(tmp_path / "rec"))
    for key, value in values.items():
        check_expected(key, value, rtol=0, atol=0)  # exact round trip
    assert capsys.readouterr().out.count("✓") == len(values)

    # expected() gives arrays with their dtype and shape, scalars as python numbers
    assert expected("t1.f32").dtype == np.float32
    assert expected("t1.tensor").dtype == np.float32 and isinstance(expected("t1.tensor"), np.ndarray)
    assert expected("t1.empty").shape == (0, 3)
    assert expected("t1.zero-d").shape == ()
    assert expected("t1.int") == 3 and isinstance(expected("t1.int"), int)
    assert expected("t1.bool") is True
    assert expected("t1.float") == 0.1


def test_check_mode_uses_the_recorded_container_and_value(tmp_path, monkeypatch):
    monkeypatch.setenv(C.RECORD_ENV, str(tmp_path))
    check_expected("a9.tensor", torch.tensor([1.0, 2.0]))
    check_expected("a9.array", np.array([1.0, 2.0]))
    check_expected("a9.list", [1.0, 2.0])
    check_expected("a9.loss", 4.25)
    monkeypatch.delenv(C.RECORD_ENV)
    monkeypatch.setenv(C.EXPECTED_DIR_ENV, str(tmp_path))

    err = failure(check_expected, "a9.tensor", np.array([1.0, 2.0]))
    assert "expected a torch.Tensor" in err.problem
    assert "expected a numpy array" in failure(check_expected, "a9.array", [1.0, 2.0]).problem
    check_expected("a9.list", np.array([1.0, 2.0]))  # a list recording accepts any array-like
    err = failure(check_expected, "a9.array", np.array([1.0, 2.5]), hint="h")
    assert err.name == "a9.array" and "at index [1]: got 2.5, expected 2" in str(err)
    assert failure(check_expected, "a9.loss", 4.0).problem == "got 4, expected 4.25"


def test_record_mode_merges_into_an_existing_file_and_overwrites_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv(C.RECORD_ENV, str(tmp_path))
    check_expected("a1.x", 1.0)
    check_expected("a1.y", 2.0)
    check_expected("a1.x", 3.0)
    check_expected("a2.z", 4.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a1.json", "a2.json"]  # no temp files left
    assert {k: v["value"] for k, v in json.loads((tmp_path / "a1.json").read_text()).items()} == {
        "a1.x": 3.0, "a1.y": 2.0}
    assert expected("a1.x") == 3.0  # record mode reads its own files


def test_record_mode_refuses_none_and_unsupported_values(tmp_path, monkeypatch):
    monkeypatch.setenv(C.RECORD_ENV, str(tmp_path))
    assert "forget `return`" in failure(check_expected, "a1.none", None).problem
    with pytest.raises(TypeError, match=r"check_expected: cannot record `got` = dict"):
        check_expected("a1.dict", {"a": 1})
    assert not (tmp_path / "a1.json").exists()


def test_missing_key_and_missing_file_say_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv(C.EXPECTED_DIR_ENV, str(tmp_path))
    (tmp_path / "a1.json").write_text('{"a1.other": {"kind": "scalar", "type": "int", "value": 1}}')
    for key, file in (("a1.absent", "a1.json"), ("a7.absent", "a7.json")):
        with pytest.raises(MissingExpectedValue) as info:
            check_expected(key, 1.0)
        message = str(info.value)
        assert repr(key) in message and str(tmp_path / file) in message
        assert "python3 kit.py release" in message
        assert isinstance(info.value, KeyError)
        with pytest.raises(MissingExpectedValue):
            expected(key)


def test_broken_expected_files_give_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv(C.EXPECTED_DIR_ENV, str(tmp_path))
    (tmp_path / "b1.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"b1.json is not valid JSON .*kit.py release"):
        expected("b1.x")
    (tmp_path / "b2.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"b2.json must hold a JSON object, got list"):
        expected("b2.x")
    (tmp_path / "b3.json").write_text('{"b3.x": {"kind": "array", "dtype": "float64"}}')
    with pytest.raises(ValueError, match=r"stored expected value 'b3.x' is malformed"):
        expected("b3.x")


def test_a_rewritten_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv(C.EXPECTED_DIR_ENV, str(tmp_path))
    path = tmp_path / "c1.json"
    path.write_text('{"c1.v": {"kind": "scalar", "type": "float", "value": 1.0}}')
    assert expected("c1.v") == 1.0
    path.write_text('{"c1.v": {"kind": "scalar", "type": "float", "value": 25.0}}')  # new size
    assert expected("c1.v") == 25.0


@pytest.mark.parametrize("key", ["nodot", "a1.", ".a1", "a1..x", "a1.x y", 7, None])
def test_keys_must_be_dotted_names(key):
    with pytest.raises(ValueError, match=r"check_expected: `key` must look like 'a1.softmax.basic'"):
        check_expected(key, 1.0)
    with pytest.raises(ValueError, match=r"expected: `key` must look like"):
        expected(key)


def test_expected_dir_defaults_to_the_package_folder(tmp_path, monkeypatch):
    assert C.expected_dir() == COURSE_ROOT / "helpers" / "expected"
    monkeypatch.setenv(C.EXPECTED_DIR_ENV, str(tmp_path))
    assert C.expected_dir() == tmp_path


def test_ipython_shows_the_message_not_the_kits_internals():
    err = CheckFailed("softmax(y)", "wrong shape: got (3,), expected (3, 1)", ["reshape it"], hint="keep columns")
    lines = err._render_traceback_()
    assert "CheckFailed" in lines[0] and "✗ softmax(y): wrong shape" in lines[0]
    assert lines[1:] == ["  reshape it", "Hint: keep columns"]
    assert not any("checks.py" in line for line in lines)
