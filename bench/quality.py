"""Model quality per CPU minute: held-out loss after 1, 3 and 10 minutes of training.

    python3 kit.py run python bench/quality.py [--budgets 1,3,10] [--part shakespeare|tang|all]

Tiny Shakespeare (first 90% for training, the last 10% held out, helpers.data.train_val_split),
validation loss in nats per character over the whole held-out text:
- reference: assignment 2's char-RNN exactly as its notebook trains it (a1 + a2 solution code
  through bench/solution_code.py: H = 100, T = 25, Adagrad 0.1, element-wise clip 5, seed 42,
  batch 1, numpy float64) - min-char-rnn's recipe;
- the kit's best character model, bench/charlm.py (torch char-LSTM, H = 256, 32 streams of 128
  characters, Adam with linear decay over the budget). Its learning rate depends on the budget,
  so every budget is a fresh run (1 + 3 + 10 = 14 minutes by default).
Complete Tang Poems, assignment 6's model exactly as its notebook trains it (its solution code:
quatrains, min_freq 5, 34 tokens, 4:1 split with seed 0, PoemLM E = H = 128 with MyLSTM, Adam
0.01, batch 64, clip 1): test perplexity with padding masked, over all test poems; reference: the
perplexity of the training set's unigram frequencies on the same test tokens.

Only training time counts towards a budget (an evaluation pauses the clock). Threads: torch and
BLAS get 2 (`--threads`), the machine's 2 cores; the batch-1 char-RNN cannot use the second one.
Takes about 10 + 14 + 10 minutes plus evaluations with the default budgets.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def set_threads(n: int) -> None:
    """Before numpy and torch load, so that their pools start at this size."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def checkpoints(step, budgets_s, evaluate):
    """Call `step(trained_s)` until the training time reaches max(budgets_s); at each budget, call
    `evaluate()` with the clock paused. Returns [(budget_s, steps, evaluate's result)]."""
    pending, trained_s, steps, results = sorted(budgets_s), 0.0, 0, []
    while pending:
        start = time.perf_counter()
        loss = step(trained_s)
        trained_s += time.perf_counter() - start
        steps += 1
        if not math.isfinite(loss):
            raise FloatingPointError(f"training loss became {loss} at step {steps}")
        while pending and trained_s >= pending[0]:
            results.append((pending.pop(0), steps, evaluate()))
    return results


def shakespeare():
    import numpy as np

    from helpers.data import CharVocab, load_shakespeare, train_val_split

    text = load_shakespeare()
    vocab = CharVocab.from_text(text)
    train_text, val_text = train_val_split(text, 0.1)
    return vocab, np.array(vocab.encode(train_text)), np.array(vocab.encode(val_text))


def char_rnn_rows(budgets_s, vocab, train_ids, val_ids):
    """Assignment 2's training loop (its notebook's cell code-17, without sampling) on a budget."""
    import numpy as np
    from solution_code import CHAR_RNN, load_all

    ns = load_all({**CHAR_RNN, "a2_rnn_backprop/rnn_backprop.ipynb":
                   ("rnn_backward", "loss_fun", "clip_gradients", "adagrad_update")})
    H, T, lr, clip, V = 100, 25, 0.1, 5.0, len(vocab)
    rng = np.random.default_rng(42)
    params = {"Wxh": rng.normal(0.0, 0.01, (H, V)), "Whh": rng.normal(0.0, 0.01, (H, H)),
              "Why": rng.normal(0.0, 0.01, (V, H)), "bh": np.zeros((H, 1)), "by": np.zeros((V, 1))}
    memory = {name: np.zeros_like(w) for name, w in params.items()}
    data = [int(i) for i in train_ids]
    at = {"h": np.zeros((H, 1)), "pos": 0}

    def step(_trained_s):
        if at["pos"] + T + 1 >= len(data):
            at["h"], at["pos"] = np.zeros((H, 1)), 0
        inputs, targets = data[at["pos"]:at["pos"] + T], data[at["pos"] + 1:at["pos"] + T + 1]
        loss, grads, at["h"] = ns["loss_fun"](inputs, targets, at["h"], params)
        ns["clip_gradients"](grads, clip)
        ns["adagrad_update"](params, grads, memory, lr)
        at["pos"] += T
        return loss

    def evaluate():  # a2's loss_per_char over the whole held-out text, the state carried
        val, h, total = [int(i) for i in val_ids], np.zeros((H, 1)), 0.0
        n = (len(val) - 1) // T * T
        for start in range(0, n, T):
            loss, cache = ns["rnn_forward"](val[start:start + T], val[start + 1:start + T + 1], h, params)
            total, h = total + loss, cache["hs"][T - 1]
        return total / n

    return [(b, s, s * T, v) for b, s, v in checkpoints(step, budgets_s, evaluate)]


def char_lm_rows(budgets_s, vocab, train_ids, val_ids):
    """bench/charlm.py, one fresh run per budget (its learning-rate decay ends at the budget)."""
    from charlm import CharLMConfig, nats_per_char, trainer

    cfg, rows = CharLMConfig(), []
    for budget_s in sorted(budgets_s):
        model, step = trainer(train_ids, len(vocab), budget_s, cfg)
        [(b, s, v)] = checkpoints(step, [budget_s], lambda: nats_per_char(model, val_ids))
        rows.append((b, s, s * cfg.batch * cfg.seq_len, v))
    return rows


def unigram_nats(train_ids, val_ids, size):
    """Cross-entropy of the training set's character frequencies (add-one) on the held-out text."""
    import numpy as np

    counts = np.bincount(train_ids, minlength=size) + 1.0
    return float(-np.log(counts / counts.sum())[val_ids].mean())


def report_shakespeare(budgets_s) -> None:
    import numpy as np

    vocab, train_ids, val_ids = shakespeare()
    print(f"Tiny Shakespeare: {len(train_ids):,} training, {len(val_ids):,} held-out characters, V = {len(vocab)}; "
          f"uniform guess {np.log(len(vocab)):.3f}, unigram {unigram_nats(train_ids, val_ids, len(vocab)):.3f} "
          "nats/char")
    table = {"a2 char-RNN (reference, numpy, batch 1)": char_rnn_rows(budgets_s, vocab, train_ids, val_ids),
             "kit char-LSTM (bench/charlm.py, torch)": char_lm_rows(budgets_s, vocab, train_ids, val_ids)}
    print(f"\n{'model':42s} {'budget':>7s} {'steps':>8s} {'epochs':>7s} {'val nats/char':>14s}")
    for name, rows in table.items():
        for budget_s, steps, chars, val in rows:
            print(f"{name:42s} {budget_s / 60:5g} m {steps:8,} {chars / len(train_ids):7.2f} {val:14.3f}")
    best = dict((b, v) for b, _, _, v in table["kit char-LSTM (bench/charlm.py, torch)"])
    if 180 in best:
        print(f"\nissue 6's target, <= 1.70 nats/char within 3 minutes: {best[180]:.3f} "
              f"({'met' if best[180] <= 1.70 else 'missed'})")


def tang_setup():
    """Assignment 6's data pipeline and model, from its solution code (the cells print; silenced)."""
    import re
    from collections import Counter

    import numpy as np
    import torch
    from solution_code import load
    from torch import nn

    from helpers.data import load_tang

    notebook = "a6_tang_poems/tang_poems.ipynb"
    ns = {"np": np, "torch": torch, "nn": nn, "re": re, "math": math, "Counter": Counter, "load_tang": load_tang}
    with contextlib.redirect_stdout(io.StringIO()):
        load(notebook, ("code-04", "code-06", "build_vocab", "encode_fixed_length", "split_poems", "MyLSTM",
                        "masked_loss"), ns)
        ns["vocab"] = ns["build_vocab"](ns["corpus"], 5)
        load(notebook, ("code-27",), ns)
    train_poems, test_poems = ns["split_poems"](ns["corpus"], seed=0)
    encode = lambda poems: torch.tensor([ns["encode_fixed_length"](p, ns["vocab"], 34) for p in poems])  # noqa: E731
    return ns, encode(train_poems), encode(test_poems)


def report_tang(budgets_s, lstm: str) -> None:
    import torch
    from torch import nn

    ns, train_tokens, test_tokens = tang_setup()
    pad, V = ns["PAD_ID"], len(ns["vocab"])
    targets = test_tokens[:, 1:]
    mask = targets != pad
    counts = torch.bincount(train_tokens[:, 1:][train_tokens[:, 1:] != pad], minlength=V).double() + 1.0
    unigram = math.exp(float(-torch.log(counts / counts.sum())[targets[mask]].mean()))
    print(f"\nTang quatrains: {len(train_tokens):,} training, {len(test_tokens):,} test poems, V = {V:,}; "
          f"test perplexity of a uniform guess {V:,}, of the training unigram frequencies {unigram:.1f}")

    torch.manual_seed(0)
    model = ns["PoemLM"](V, 128, 128, lstm=lstm)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    at = {"order": torch.empty(0, dtype=torch.long), "next": 0}

    def step(_trained_s):
        if at["next"] + 64 > len(at["order"]):  # a new epoch, shuffled; the last partial batch dropped
            at["order"], at["next"] = torch.randperm(len(train_tokens), generator=gen), 0
        batch = train_tokens[at["order"][at["next"]:at["next"] + 64]]
        at["next"] += 64
        logits, _ = model(batch[:, :-1])
        loss = ns["masked_loss"](logits, batch[:, 1:], pad)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    @torch.no_grad()
    def evaluate():
        model.eval()
        nats = sum(ns["masked_loss"](model(chunk[:, :-1])[0], chunk[:, 1:], pad).item() * int((chunk[:, 1:] != pad).sum())
                   for chunk in test_tokens.split(256))
        model.train()
        return math.exp(nats / int(mask.sum()))

    print(f"\n{'model':42s} {'budget':>7s} {'steps':>8s} {'epochs':>7s} {'test perplexity':>16s}")
    for budget_s, steps, ppl in checkpoints(step, budgets_s, evaluate):
        print(f"{'a6 PoemLM (' + lstm + ' LSTM), E = H = 128':42s} {budget_s / 60:5g} m {steps:8,} "
              f"{steps * 64 / len(train_tokens):7.2f} {ppl:16.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", default="1,3,10", help="minutes of training, comma-separated")
    parser.add_argument("--part", choices=("shakespeare", "tang", "all"), default="all")
    parser.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
    parser.add_argument("--tang-lstm", choices=("mine", "torch"), default="mine",
                        help="a6's PoemLM with the students' MyLSTM (as the notebook trains it) or nn.LSTM")
    args = parser.parse_args()
    budgets_s = [60 * float(b) for b in args.budgets.split(",")]
    set_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    print(f"threads: {args.threads}; budgets: {args.budgets} minutes of training; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.part in ("shakespeare", "all"):
        report_shakespeare(budgets_s)
    if args.part in ("tang", "all"):
        report_tang(budgets_s, args.tang_lstm)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
