"""Tests for helpers.training: seeding, grading budgets, progress bars, smoothing, train()."""
from __future__ import annotations

import io
import math
import random
import time

import numpy as np
import pytest
import torch
from tqdm.std import tqdm as std_tqdm

from helpers.training import (TrainHistory, budget, is_grading, progress, seed_everything,
                              smooth_losses, train)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The surrounding shell's nbgrader / progress settings must not leak in."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("RNN_KIT_NO_PROGRESS", "1")


# --------------------------------------------------------------------------
# seed_everything
# --------------------------------------------------------------------------
def draws(rng):
    return (random.random(), np.random.rand(), torch.rand(1).item(), rng.random())


@pytest.fixture
def restore_global_generators():
    """Put python's, numpy's and torch's global generators back as they were."""
    state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    yield
    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])


def test_seed_everything_makes_every_generator_reproducible(restore_global_generators):
    first = draws(seed_everything(123))
    draws(np.random.default_rng(5))  # move the global generators on
    second = draws(seed_everything(123))
    other = draws(seed_everything(124))
    assert first == second
    assert all(a != b for a, b in zip(first, other))  # each generator follows the seed


def test_seed_everything_returns_default_rng_of_the_seed(restore_global_generators):
    for seed in (7, np.int64(2**32 - 1), np.uint32(0)):  # numpy ints and both ends of the range
        rng = seed_everything(seed)
        assert isinstance(rng, np.random.Generator)
        assert rng.random(3).tolist() == np.random.default_rng(int(seed)).random(3).tolist()
        assert np.random.rand() == np.random.RandomState(int(seed)).rand()


@pytest.mark.parametrize("seed, error, match", [
    (-1, ValueError, r"seed_everything: `seed` must be in \[0, 2\*\*32 - 1\], got -1"),
    (2**32, ValueError, r"`seed` must be in \[0, 2\*\*32 - 1\], got 4294967296"),
    (1.5, TypeError, r"seed_everything: `seed` must be an int, got float 1.5"),
    (True, TypeError, r"`seed` must be an int, got bool True"),
    ("1", TypeError, r"`seed` must be an int, got str '1'"),
    (None, TypeError, r"`seed` must be an int, got None"),
])
def test_seed_everything_rejects_bad_seeds(seed, error, match):
    with pytest.raises(error, match=match):
        seed_everything(seed)


# --------------------------------------------------------------------------
# is_grading and budget
# --------------------------------------------------------------------------
def test_is_grading_and_budget_follow_nbgrader_execution(monkeypatch):
    assert not is_grading()
    assert budget(full=20_000, grading=200) == 20_000
    for value in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", value)
        assert is_grading()
        assert budget(full=20_000, grading=200) == 200
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert not is_grading() and budget(full="long", grading="short") == "long"


def test_budget_needs_both_values():
    with pytest.raises(TypeError, match=r"budget: `grading` must be given .*got None"):
        budget(full=10, grading=None)
    with pytest.raises(TypeError, match=r"budget: `full` must be given"):
        budget(full=None, grading=10)


# --------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------
def test_progress_is_a_tqdm_disabled_by_the_environment(monkeypatch):
    bar = progress(range(3), desc="epochs")
    assert isinstance(bar, std_tqdm) and bar.disable
    assert list(bar) == [0, 1, 2]  # still iterates
    for value in ("", "0"):
        monkeypatch.setenv("RNN_KIT_NO_PROGRESS", value)
        out = io.StringIO()
        bar = progress(total=4, desc="steps", file=out)
        assert isinstance(bar, std_tqdm) and not bar.disable and bar.total == 4
        bar.update(4)
        bar.close()
        assert "steps" in out.getvalue() and "4/4" in out.getvalue()
    monkeypatch.delenv("RNN_KIT_NO_PROGRESS")
    assert not progress(total=1, file=io.StringIO()).disable
    assert progress(total=1, disable=True).disable


def test_progress_rejects_bad_arguments():
    for total in (-1, 2.5, True):
        with pytest.raises(ValueError, match=r"progress: `total` must be a non-negative int or None"):
            progress(total=total)
    with pytest.raises(TypeError, match=r"progress: `desc` must be a str or None, got int 3"):
        progress(range(2), desc=3)


# --------------------------------------------------------------------------
# smooth_losses
# --------------------------------------------------------------------------
def min_char_rnn_smoothing(losses, smooth_loss):
    """min-char-rnn's loop, written out: the value after each step."""
    out = []
    for loss in losses:
        smooth_loss = smooth_loss * 0.999 + loss * 0.001
        out.append(smooth_loss)
    return out


def test_smooth_losses_matches_min_char_rnn():
    rng = np.random.default_rng(0)
    losses = (4.17 + rng.normal(size=3000)).tolist()
    start = -math.log(1.0 / 65) * 25  # min-char-rnn's starting value
    np.testing.assert_allclose(smooth_losses(losses, start=start),
                               min_char_rnn_smoothing(losses, start), rtol=1e-12)
    # by default the first loss is the start, so out[0] == losses[0]
    out = smooth_losses(losses)
    assert out[0] == losses[0]
    np.testing.assert_allclose(out, min_char_rnn_smoothing(losses, losses[0]), rtol=1e-12)
    assert out.dtype == np.float64 and out.shape == (3000,)


def test_smooth_losses_beta():
    losses = [1.0, 3.0, 2.0]
    np.testing.assert_array_equal(smooth_losses(losses, beta=0), losses)
    # beta = 0.5: 1, 0.5 * 1 + 0.5 * 3 = 2, 0.5 * 2 + 0.5 * 2 = 2
    np.testing.assert_array_equal(smooth_losses(losses, beta=0.5), [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(smooth_losses(losses, beta=0.5, start=0), [0.5, 1.75, 1.875])
    assert smooth_losses([]).shape == (0,)
    np.testing.assert_array_equal(smooth_losses(torch.tensor([2.0, 4.0]), beta=0.5), [2.0, 3.0])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"losses": [[1.0, 2.0]]}, ValueError, r"smooth_losses: `losses` must be 1-D .*shape \(1, 2\)"),
    ({"losses": 3.0}, ValueError, r"`losses` must be 1-D .*shape \(\)"),
    ({"losses": [1.0, float("nan")]}, ValueError, r"`losses` must be finite, got nan at index 1"),
    ({"losses": [float("inf")]}, ValueError, r"`losses` must be finite, got inf at index 0"),
    ({"losses": ["a", "b"]}, TypeError, r"smooth_losses: `losses` must be a sequence of numbers"),
    ({"beta": 1}, ValueError, r"smooth_losses: `beta` must be a number in \[0, 1\), got int 1"),
    ({"beta": -0.1}, ValueError, r"`beta` must be a number in \[0, 1\)"),
    ({"beta": "0.9"}, ValueError, r"`beta` must be a number in \[0, 1\), got str"),
    ({"start": "0"}, TypeError, r"smooth_losses: `start` must be a number or None, got str"),
    ({"start": float("inf")}, ValueError, r"`start` must be finite, got inf"),
])
def test_smooth_losses_rejects_bad_input(kwargs, error, match):
    args = {"losses": [1.0, 2.0]} | kwargs
    with pytest.raises(error, match=match):
        smooth_losses(args.pop("losses"), **args)


def test_train_history_smoothed():
    history = TrainHistory(steps=3, losses=[1.0, 3.0, 2.0])
    np.testing.assert_array_equal(history.smoothed(beta=0.5), [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(history.smoothed(), smooth_losses([1.0, 3.0, 2.0]))


# --------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------
def test_train_runs_every_step_and_records_the_losses():
    seen = []

    def step_fn(step):
        seen.append(step)
        # numbers, numpy scalars, size-1 arrays and torch scalars are all losses
        return [10.0 / (step + 1), np.float32(1.5), np.array([[2.0]]), torch.tensor(0.25)][step % 4]

    history = train(step_fn, 8)
    assert seen == list(range(8))
    assert history.steps == 8 and not history.stopped_early
    assert history.losses == [10.0, 1.5, 2.0, 0.25, 2.0, 1.5, 2.0, 0.25]
    assert all(type(loss) is float for loss in history.losses)
    assert history.seconds >= 0


def test_train_calls_on_log_at_every_log_every_steps_with_the_history_so_far():
    logged = []

    def on_log(step, history):
        logged.append((step, history.steps, list(history.losses)))

    history = train(lambda step: float(step), 10, log_every=4, on_log=on_log)
    assert [entry[0] for entry in logged] == [0, 4, 8]
    assert [entry[1] for entry in logged] == [1, 5, 9]
    assert logged[1][2] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert history.steps == 10


def test_train_with_zero_steps():
    history = train(lambda step: pytest.fail("no step should run"), 0)
    assert history.steps == 0 and history.losses == [] and not history.stopped_early


def test_train_stops_at_the_time_limit():
    def slow_step(step):
        time.sleep(0.005)  # every step outlasts the limit below
        return 1.0

    history = train(slow_step, 1000, time_limit=0.001)
    assert history.stopped_early
    assert history.steps == 1 and history.losses == [1.0]  # stops after the step that passed it


def test_train_that_finishes_within_the_limit_is_not_stopped_early():
    history = train(lambda step: 1.0, 3, time_limit=3600)
    assert history.steps == 3 and not history.stopped_early


def test_train_raises_on_a_non_finite_loss_with_the_history_attached():
    losses = [2.0, 1.5, float("nan"), 1.0]
    with pytest.raises(FloatingPointError, match=r"loss became nan at step 2: lower the learning "
                                                 r"rate or clip the gradients") as info:
        train(lambda step: losses[step], 4)
    history = info.value.history
    assert history.steps == 2 and history.losses == [2.0, 1.5]
    with pytest.raises(FloatingPointError, match=r"loss became inf at step 0"):
        train(lambda step: np.inf, 4)


def test_train_rejects_a_step_fn_that_returns_no_loss():
    with pytest.raises(TypeError, match=r"train: `step_fn` must return the loss as a number, "
                                        r"got None at step 0"):
        train(lambda step: None, 2)
    with pytest.raises(TypeError, match=r"got ndarray of shape \(2,\) .* at step 0"):
        train(lambda step: np.ones(2), 2)
    with pytest.raises(TypeError, match=r"got str '1.0' at step 0"):
        train(lambda step: "1.0", 2)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"step_fn": None}, TypeError, r"train: `step_fn` must be a function step -> loss, got None"),
    ({"n_steps": -1}, ValueError, r"train: `n_steps` must be an int >= 0, got int -1"),
    ({"n_steps": 10.0}, ValueError, r"`n_steps` must be an int >= 0, got float 10.0"),
    ({"log_every": 0}, ValueError, r"`log_every` must be an int >= 1, got int 0"),
    ({"desc": None}, TypeError, r"train: `desc` must be a str, got None"),
    ({"on_log": "print"}, TypeError, r"`on_log` must be a function \(step, history\) or None"),
    ({"time_limit": 0}, ValueError, r"`time_limit` must be a positive number of seconds or None"),
    ({"time_limit": True}, ValueError, r"`time_limit` must be a positive number"),
])
def test_train_rejects_bad_arguments(kwargs, error, match):
    args = {"step_fn": lambda step: 1.0, "n_steps": 2} | kwargs
    with pytest.raises(error, match=match):
        train(args.pop("step_fn"), args.pop("n_steps"), **args)


def test_train_shows_a_progress_bar_with_the_smoothed_loss(monkeypatch, capsys):
    monkeypatch.setenv("RNN_KIT_NO_PROGRESS", "0")
    train(lambda step: 2.0, 5, desc="char-rnn")
    err = capsys.readouterr().err
    assert "char-rnn" in err and "5/5" in err and "loss=2.0000" in err
    monkeypatch.setenv("RNN_KIT_NO_PROGRESS", "1")
    train(lambda step: 2.0, 5, desc="char-rnn")
    assert capsys.readouterr().err == ""
