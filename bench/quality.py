"""Model quality per CPU minute: held-out loss after 1, 3 and 10 minutes of training.

    python3 kit.py run python bench/quality.py [--budgets 1,3,10] [--part shakespeare|tang|all]

Tiny Shakespeare (first 90% for training, the last 10% held out, helpers.data.train_val_split),
validation loss in nats per character over the whole held-out text:
- reference: assignment 2's char-RNN, its notebook's own training cell (H = 100, T = 25, Adagrad
  0.1, element-wise clip 5, seed 42, batch 1, numpy float64: min-char-rnn's recipe);
- the kit's best character model, bench/charlm.py (torch char-LSTM, H = 256, 32 streams of 128
  characters, Adam with linear decay over the budget). Its learning rate depends on the budget,
  so every budget is a fresh run (1 + 3 + 10 = 14 minutes by default).
Complete Tang Poems, assignment 6's model, its notebook's own cells (quatrains, min_freq 5, 34
tokens, 4:1 split with seed 0, PoemLM E = H = 128 with MyLSTM, Adam 0.01, batch 64, clip 1): test
perplexity with padding masked over all test poems (the notebook's `perplexities`); reference: the
perplexity of the training set's unigram frequencies on the same test tokens.

The notebooks' training cells run unchanged from the solutions (bench/solution_code.py), with
helpers.training.train replaced by a stand-in that trains on the time budgets instead of a
number of steps.

Only training time counts towards a budget (an evaluation pauses the clock). Threads: torch and
BLAS get 2 (`--threads`), the machine's 2 cores; the batch-1 char-RNN cannot use the second one.
Takes about 10 + 14 + 10 minutes plus evaluations with the default budgets.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import math
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def set_threads(n: int) -> None:
    """Before numpy and torch load, so that their pools start at this size."""
    from helpers.instructor import THREAD_VARIABLES  # imports neither numpy nor torch

    for var in THREAD_VARIABLES:
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


def budgeted(budgets_s, evaluate, results: list):
    """A stand-in for helpers.training.train, for a notebook's own training cell to call: it runs the
    cell's step function on the time budgets (see `checkpoints`) instead of its n_steps, and puts
    [(budget_s, steps, evaluate's result)] into `results`."""
    from helpers.training import TrainHistory, _as_loss

    def train(step_fn, n_steps, **_logging):
        def step(_trained_s):
            index = next(step_index)
            return _as_loss(step_fn(index), index)   # as train reads a loss (torch scalars included)

        step_index = itertools.count()
        results.extend(checkpoints(step, budgets_s, evaluate))
        return TrainHistory(steps=results[-1][1], seconds=max(budgets_s), stopped_early=True)

    return train


def run_training_cell(notebook: str, setup: tuple[str, ...], training: str, budgets_s, evaluate) -> tuple:
    """Run the cells `setup` of a solution notebook, then its cell `training` with `train` budgeted
    (the cells print; silenced). Returns (namespace, [(budget_s, steps, evaluate(namespace))])."""
    from solution_code import load

    ns, results = {}, []
    with contextlib.redirect_stdout(io.StringIO()):
        load(notebook, setup, ns)
        ns["train"] = budgeted(budgets_s, lambda: evaluate(ns), results)
        load(notebook, (training,), ns)
    return ns, results


def char_rnn_rows(budgets_s):
    """Assignment 2's training cell (code-17), run as is on the budgets."""
    import numpy as np

    def evaluate(ns):  # the notebook's loss_per_char (cell code-20), on the whole held-out text
        T, params = ns["seq_length"], ns["params"]
        val, h, total = ns["vocab"].encode(ns["val_text"]), np.zeros((ns["hidden_size"], 1)), 0.0
        n = (len(val) - 1) // T * T
        for start in range(0, n, T):
            loss, cache = ns["rnn_forward"](val[start:start + T], val[start + 1:start + T + 1], h, params)
            total, h = total + loss, cache["hs"][T - 1]
        return total / n

    ns, results = run_training_cell("a2_rnn_backprop/rnn_backprop.ipynb",
                                    ("code-02", "code-04", "rnn_backward", "loss_fun", "clip_gradients",
                                     "adagrad_update"), "code-17", budgets_s, evaluate)
    return [(b, s, s * ns["seq_length"], v) for b, s, v in results]


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
    table = {"a2 char-RNN (reference, numpy, batch 1)": char_rnn_rows(budgets_s),
             "kit char-LSTM (bench/charlm.py, torch)": char_lm_rows(budgets_s, vocab, train_ids, val_ids)}
    print(f"\n{'model':42s} {'budget':>7s} {'steps':>8s} {'epochs':>7s} {'val nats/char':>14s}")
    for name, rows in table.items():
        for budget_s, steps, chars, val in rows:
            print(f"{name:42s} {budget_s / 60:5g} m {steps:8,} {chars / len(train_ids):7.2f} {val:14.3f}")
    best = dict((b, v) for b, _, _, v in table["kit char-LSTM (bench/charlm.py, torch)"])
    if 180 in best:
        print(f"\nTarget, <= 1.70 nats/char within 3 minutes: {best[180]:.3f} "
              f"({'met' if best[180] <= 1.70 else 'missed'})")


def report_tang(budgets_s) -> None:
    """Assignment 6's training cell (code-35-train: PoemLM with MyLSTM, Adam, its DataLoader), run as is on
    the budgets; evaluated with the notebook's own `perplexities` on every test poem."""
    import torch

    def evaluate(ns):
        return ns["perplexities"](ns["model"], ns["test_tokens"])[0]

    ns, results = run_training_cell(
        "a6_tang_poems/tang_poems.ipynb",
        ("code-02", "code-04", "code-04-quatrains", "code-06", "build_vocab", "code-10", "code-10-vocab",
         "encode_fixed_length", "split_poems", "code-19", "code-19-loader", "MyLSTM", "code-27", "masked_loss",
         "masked_perplexity", "code-35", "code-35-perplexities", "code-35-step"), "code-35-train", budgets_s, evaluate)
    pad, V, train_tokens, test_tokens = ns["PAD_ID"], len(ns["vocab"]), ns["train_tokens"], ns["test_tokens"]
    targets = test_tokens[:, 1:]
    counts = torch.bincount(train_tokens[:, 1:][train_tokens[:, 1:] != pad], minlength=V).double() + 1.0
    unigram = math.exp(float(-torch.log(counts / counts.sum())[targets[targets != pad]].mean()))
    print(f"\nTang quatrains: {len(train_tokens):,} training, {len(test_tokens):,} test poems, V = {V:,}; "
          f"test perplexity of a uniform guess {V:,}, of the training unigram frequencies {unigram:.1f}")
    print(f"\n{'model':42s} {'budget':>7s} {'steps':>8s} {'epochs':>7s} {'test perplexity':>16s}")
    for budget_s, steps, ppl in results:
        print(f"{'a6 PoemLM (MyLSTM), E = H = 128':42s} {budget_s / 60:5g} m {steps:8,} "
              f"{steps * ns['BATCH_SIZE'] / len(train_tokens):7.2f} {ppl:16.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", default="1,3,10", help="minutes of training, comma-separated")
    parser.add_argument("--part", choices=("shakespeare", "tang", "all"), default="all")
    parser.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
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
        report_tang(budgets_s)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
