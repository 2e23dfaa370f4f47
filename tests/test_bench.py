"""The pieces of bench/quality.py and bench/charlm.py that decide what a figure means: the training
clock, the held-out loss and the trainer. No timing is asserted: the clock is a fake one."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import charlm  # noqa: E402
import quality  # noqa: E402


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_checkpoints_count_training_time_only(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(quality.time, "perf_counter", clock)
    seen = []

    def step(trained_s):
        seen.append(trained_s)
        clock.now += 1.0          # one second of training per step
        return 1.0

    def evaluate():
        clock.now += 100.0        # a slow evaluation must not use up the budget
        return len(seen)

    results = quality.checkpoints(step, [5, 3], evaluate)
    assert results == [(3, 3, 3), (5, 5, 5)]
    assert seen == [0.0, 1.0, 2.0, 3.0, 4.0], "step() is told the training time spent so far"


def test_checkpoints_stop_on_a_non_finite_loss():
    with pytest.raises(FloatingPointError, match="nan at step 1"):
        quality.checkpoints(lambda _: float("nan"), [10], lambda: None)


def test_held_out_loss_carries_the_state_along_each_stream():
    torch.manual_seed(0)
    cfg = charlm.CharLMConfig(hidden=16, embedding=8)
    model = charlm.CharLM(7, cfg)
    ids = np.random.default_rng(0).integers(0, 7, size=301)
    got = charlm.nats_per_char(model, ids, batch=1, seq_len=13)   # 23 chunks, the state carried
    with torch.no_grad():
        tokens = torch.as_tensor(ids, dtype=torch.int64)[None]
        logits, _ = model(tokens[:, :-1])                        # one pass over the whole text
        want = torch.nn.functional.cross_entropy(logits[0], tokens[0, 1:]).item()
    assert got == pytest.approx(want, rel=1e-5)


def test_streams_are_contiguous_rows():
    rows = charlm.streams(np.arange(23), 4)
    assert rows.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]


def test_trainer_learns_a_periodic_text_and_decays_its_learning_rate():
    ids = np.tile(np.arange(5), 400)                              # "abcde" repeated: fully predictable
    cfg = charlm.CharLMConfig(hidden=32, embedding=8, batch=4, seq_len=20, lr=1e-2, final_lr_fraction=0.1)
    model, step = charlm.trainer(ids, 5, total_s=60.0, cfg=cfg)
    first = step(0.0)
    assert first == pytest.approx(math.log(5), abs=0.2)
    for _ in range(60):
        last = step(30.0)
    assert last < 0.1 * first, f"loss {first:.3f} -> {last:.3f} on a periodic text"
    assert charlm.nats_per_char(model, ids, batch=2, seq_len=50) < 0.1
    step(60.0)
    lrs = [g["lr"] for g in step.optimizer.param_groups]
    assert lrs == pytest.approx([1e-3] * len(lrs)), "at the end of the budget the rate is 10% of lr"


def test_unigram_baseline():
    train = np.array([0, 0, 0, 1])                                 # counts 3, 1, 0 -> add-one 4, 2, 1
    got = quality.unigram_nats(train, np.array([0, 2]), 3)
    assert got == pytest.approx(-(math.log(4 / 7) + math.log(1 / 7)) / 2)
