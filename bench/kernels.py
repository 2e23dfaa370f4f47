"""Tokens per second of forward + backward: the kit's numpy kernels beside torch and naive loops.

    python3 kit.py run python bench/kernels.py [--repeat K] [--min-time S] [--part char-rnn|lstm]
                                               [--dtype float32|float64] [--threads default|1] [--experimental]

1. char-RNN (H = 100, T = 25, V = 65, batch 1, as min-char-rnn): the kit's a1 `rnn_forward` +
   a2 `rnn_backward` (float64) against torch (nn.RNN(tanh) + nn.Linear + summed cross-entropy,
   autograd, CPU, float64 and float32) and a naive min-char-rnn `lossFun` (below).
2. LSTM (N = 64, T = 80, D = 128, H = 128): the kit's a5 `lstm_forward` + `lstm_backward`
   (float32 and float64) against torch nn.LSTM (autograd, loss = sum(outputs * G) with a fixed
   random G, so both compute dL/dh_t = G, every parameter gradient and dL/dx) and a naive loop
   that runs the kit's functions on one column (N = 1) at a time, as the reports do.

The kit's functions come from the solution notebooks (bench/solution_code.py), never copied.
Before timing, every implementation is checked against the kit's (float64: loss or outputs and
a gradient within 1e-6), so the rows compare equal work; these checks are also the warm-up.

Threads: torch rows run with torch's default thread count and with 1 (torch.set_num_threads);
numpy rows with OpenBLAS's default and with 1 (set through OpenBLAS's C API). The ratio compares
rows with the same dtype and thread count.

Timing: K rounds; a round times every row once, calling it until `--min-time` seconds have passed
(rounds interleave the rows, so a change of machine load hits all of them alike). Printed: the
median tokens/s of wall time over the K rounds with min–max, and the median tokens per CPU second
of the process (all its threads). A token is one character (char-RNN) or one (time step, sequence)
pair (LSTM: N * T per call). On a machine shared with other jobs, rows with 2 threads can run
10-40x slower than with 1 (each of the thousands of small parallel regions waits for a core):
look at the load averages printed, and at the 1-thread rows and CPU time.

--experimental adds bench/experimental_lstm.py (a patched copy of a5's LSTM, not the kit's
code): its figures say what a change to the solution would gain and are never published.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

import solution_code

DEFAULT_THREADS = torch.get_num_threads()
TARGET = 0.7  # numpy LSTM fwd+bwd >= 0.7x torch nn.LSTM throughput


# ------------------------------------------------------------------------------------------------
# Naive references

def min_char_rnn_loss_fun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    """min-char-rnn's lossFun (Karpathy, 2015), without its gradient clipping (the kit clips apart).

    inputs, targets: lists of T ints; hprev: (H, 1); Wxh (H, V), Whh (H, H), Why (V, H),
    bh (H, 1), by (V, 1). Returns loss, dWxh, dWhh, dWhy, dbh, dby, h_last (H, 1).
    """
    vocab_size = Why.shape[0]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def per_column_lstm(kit, xs, h0, c0, params, dhs):
    """The reports' style: the kit's lstm_forward + lstm_backward on one column (N = 1) at a time.

    xs (T, D, N), h0 and c0 (H, N), dhs (T, H, N). Returns hs (T, H, N) and the summed grads.
    """
    N = xs.shape[2]
    hs = np.empty(dhs.shape, dtype=dhs.dtype)
    grads = None
    for n in range(N):
        col = slice(n, n + 1)
        h, _, cache = kit["lstm_forward"](xs[:, :, col], h0[:, col], c0[:, col], params)
        g = kit["lstm_backward"](dhs[:, :, col], cache)[3]
        hs[:, :, col] = h
        grads = g if grads is None else {k: grads[k] + g[k] for k in grads}
    return hs, grads


# ------------------------------------------------------------------------------------------------
# Timing

class OpenBLAS:
    """The thread count of the OpenBLAS numpy loaded, read and set through its C API (as threadpoolctl
    does; it is not installed). `default` is None when numpy uses another BLAS."""

    def __init__(self):
        self.get = self.set = None
        paths = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.rsplit("/", 1)[-1]}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):  # numpy's wheels rename the symbols
                for suffix in ("64_", ""):
                    if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                        self.get = getattr(lib, f"{prefix}_get_num_threads{suffix}")
                        self.set = getattr(lib, f"{prefix}_set_num_threads{suffix}")
                        break
        self.default = self.get() if self.get else None


BLAS = OpenBLAS()


@dataclass
class Case:
    """One row of a table: `run()` does one forward + backward over `tokens` tokens.

    `torch_threads` (torch rows) or `blas_threads` (numpy rows) is the thread count it runs with.
    """
    name: str
    dtype: str
    tokens: int
    run: Callable[[], object]
    torch_threads: int | None = None
    blas_threads: int | None = None
    samples: list[float] = field(default_factory=list)      # tokens per second of wall time
    cpu_samples: list[float] = field(default_factory=list)  # tokens per CPU second of the process

    @property
    def threads(self) -> int | None:
        return self.torch_threads or self.blas_threads

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def numpy_cases(name, dtype, tokens, run, threads=None) -> list[Case]:
    """The numpy rows of one implementation: BLAS as it comes, and with 1 thread if that differs."""
    counts = threads or (sorted({BLAS.default, 1}, reverse=True) if BLAS.default else [None])
    return [Case(name, dtype, tokens, run, blas_threads=n) for n in counts]


def torch_cases(name, dtype, tokens, run) -> list[Case]:
    return [Case(name, dtype, tokens, run, torch_threads=n) for n in sorted({DEFAULT_THREADS, 1}, reverse=True)]


def use_threads(case: Case) -> None:
    torch.set_num_threads(case.torch_threads or DEFAULT_THREADS)
    if BLAS.set:
        BLAS.set(case.blas_threads or BLAS.default)


def measure(cases: list[Case], repeat: int, min_time: float) -> None:
    """Fill each case's samples (tokens/s of wall and of CPU time), rounds interleaved across the cases.

    No separate warm-up: the equality checks have already called every implementation once.
    """
    for _ in range(repeat):
        for case in cases:
            use_threads(case)
            # Idle helper threads of the previous row (OpenBLAS's, OpenMP's) spin for up to ~0.1 s
            # before they sleep: let them, or they would be charged to this row's CPU time.
            time.sleep(0.25)
            calls, start, cpu_start = 0, time.perf_counter(), time.process_time()
            while (elapsed := time.perf_counter() - start) < min_time or calls == 0:
                case.run()
                calls += 1
            case.samples.append(calls * case.tokens / elapsed)
            case.cpu_samples.append(calls * case.tokens / (time.process_time() - cpu_start))
    use_threads(Case("", "", 0, None))


def reference(cases: list[Case], case: Case) -> Case | None:
    """The torch row with the dtype and thread count of `case`."""
    return next((c for c in cases if c.torch_threads and (c.dtype, c.threads) == (case.dtype, case.threads)), None)


def print_table(title: str, cases: list[Case]) -> None:
    """Rows with median tokens/s (min–max) and the ratio to torch with the same dtype and threads."""
    print(f"\n{title}")
    print(f"{'implementation':52s} {'dtype':8s} {'threads':>7s} {'tokens/s: median (min–max)':>30s} "
          f"{'ratio to torch':>15s} {'tokens/CPU-s':>13s} {'ratio':>6s}")
    for c in cases:
        spread = f"{c.median:,.0f} ({min(c.samples):,.0f}–{max(c.samples):,.0f})"
        ref = reference(cases, c)
        cpu = statistics.median(c.cpu_samples)
        ratio = f"{c.median / ref.median:.2f}" if ref else "–"
        cpu_ratio = f"{cpu / statistics.median(ref.cpu_samples):.2f}" if ref else "–"
        print(f"{c.name:52s} {c.dtype:8s} {c.threads or '?':>7} {spread:>30s} {ratio:>15s} "
              f"{cpu:13,.0f} {cpu_ratio:>6s}")


def numpy_blas() -> str:
    """numpy's BLAS: name, version, configuration line and default thread count."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    config = " ".join(blas.get("openblas configuration", "").split())
    return f"{blas['name']} {blas.get('version', '')} ({config}), {BLAS.default or '?'} threads by default"


def check(what: str, difference: float, tol: float) -> None:
    status = "ok" if difference <= tol else "MISMATCH"
    print(f"  check {what:66s} max |diff| = {difference:.1e} (tolerance {tol:.0e}) {status}")
    if difference > tol:
        raise SystemExit(f"{what}: the implementations disagree; the timings would not compare equal work")


# ------------------------------------------------------------------------------------------------
# 1. char-RNN

def char_rnn_cases(V=65, H=100, T=25, seed=0) -> list[Case]:
    kit = solution_code.char_rnn()
    rng = np.random.default_rng(seed)
    shapes = {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}
    params = {name: rng.normal(0, 0.1, shape) for name, shape in shapes.items()}
    inputs = [int(i) for i in rng.integers(V, size=T)]
    targets = [int(i) for i in rng.integers(V, size=T)]
    h0 = rng.normal(0, 0.5, (H, 1))

    def kit_run():
        loss, cache = kit["rnn_forward"](inputs, targets, h0, params)
        return loss, kit["rnn_backward"](targets, cache, params)

    def naive_run():
        return min_char_rnn_loss_fun(inputs, targets, h0, *(params[k] for k in ("Wxh", "Whh", "Why", "bh", "by")))

    def torch_run_for(dtype):
        rnn = torch.nn.RNN(V, H, nonlinearity="tanh", dtype=dtype)
        out_layer = torch.nn.Linear(H, V, dtype=dtype)
        with torch.no_grad():  # the kit's parameters; nn.RNN's second bias (bias_hh) is 0
            rnn.weight_ih_l0.copy_(torch.from_numpy(params["Wxh"]))
            rnn.weight_hh_l0.copy_(torch.from_numpy(params["Whh"]))
            rnn.bias_ih_l0.copy_(torch.from_numpy(params["bh"][:, 0]))
            rnn.bias_hh_l0.zero_()
            out_layer.weight.copy_(torch.from_numpy(params["Why"]))
            out_layer.bias.copy_(torch.from_numpy(params["by"][:, 0]))
        x_ix, y_ix = torch.tensor(inputs), torch.tensor(targets)
        h = torch.from_numpy(h0.T[None]).to(dtype)  # (1, 1, H)

        def run():
            rnn.zero_grad(set_to_none=True)
            out_layer.zero_grad(set_to_none=True)
            x = F.one_hot(x_ix, V).to(dtype)[:, None]            # (T, 1, V): one-hot, as min-char-rnn
            hs, _ = rnn(x, h)                                     # (T, 1, H)
            loss = F.cross_entropy(out_layer(hs[:, 0]), y_ix, reduction="sum")
            loss.backward()
            return loss, rnn
        return run

    torch64, torch32 = torch_run_for(torch.float64), torch_run_for(torch.float32)
    loss, grads = kit_run()
    naive = naive_run()
    t_loss, rnn = torch64()
    print("char-RNN: equal work")
    check("naive lossFun vs kit: loss and the 5 gradients",
          max([abs(naive[0] - loss)] + [np.abs(a - grads[k]).max() for a, k in
                                        zip(naive[1:6], ("dWxh", "dWhh", "dWhy", "dbh", "dby"))]), 1e-6)
    check("torch float64 vs kit: loss and dWhh",
          max(abs(t_loss.item() - loss), np.abs(rnn.weight_hh_l0.grad.numpy() - grads["dWhh"]).max()), 1e-6)
    name = "torch nn.RNN + Linear + cross-entropy"
    return (numpy_cases("kit a1 rnn_forward + a2 rnn_backward (numpy)", "float64", T, kit_run)
            + numpy_cases("naive min-char-rnn lossFun (numpy)", "float64", T, naive_run)
            + torch_cases(name, "float64", T, torch64) + torch_cases(name, "float32", T, torch32))


# ------------------------------------------------------------------------------------------------
# 2. LSTM

def lstm_cases(dtypes=("float32", "float64"), N=64, T=80, D=128, H=128, seed=1, experimental=False) -> list[Case]:
    kit = solution_code.numpy_lstm()
    rng = np.random.default_rng(seed)
    params64 = kit["init_lstm_params"](D, H, rng, "xavier")
    params64.update({name: rng.normal(0, 0.1, (H, 1)) for name in ("bf", "bi", "bc", "bo")})  # nonzero biases
    xs64, h064, c064 = rng.normal(size=(T, D, N)), rng.normal(0, 0.5, (H, N)), rng.normal(0, 0.5, (H, N))
    G64 = rng.normal(size=(T, H, N))  # loss = sum(hs * G): dL/dh_t = G[t]
    if experimental:
        import experimental_lstm
    cases = []
    print("LSTM: equal work")
    for dtype, tdtype in ((np.dtype(d).type, getattr(torch, d)) for d in dtypes):
        name = np.dtype(dtype).name
        params = {k: v.astype(dtype) for k, v in params64.items()}
        xs, h0, c0, G = (a.astype(dtype) for a in (xs64, h064, c064, G64))
        lstm = kit["to_torch_lstm"](params64).to(tdtype)  # the kit's own mapping to nn.LSTM
        X, H0, C0 = (t.to(tdtype).requires_grad_() for t in kit["torch_inputs"](xs64, h064, c064))
        G_torch = torch.from_numpy(np.ascontiguousarray(G.transpose(0, 2, 1)))  # (T, N, H)

        def kit_run(xs=xs, h0=h0, c0=c0, params=params, G=G):
            hs, _, cache = kit["lstm_forward"](xs, h0, c0, params)
            return hs, kit["lstm_backward"](G, cache)

        def torch_run(lstm=lstm, X=X, H0=H0, C0=C0, G=G_torch):
            lstm.zero_grad(set_to_none=True)
            X.grad = H0.grad = C0.grad = None
            out, _ = lstm(X, (H0, C0))
            (out * G).sum().backward()
            return out

        def naive_run(xs=xs, h0=h0, c0=c0, params=params, G=G):
            return per_column_lstm(kit, xs, h0, c0, params, G)

        hs, (dxs, _, _, grads) = kit_run()
        out = torch_run()
        tol = 1e-6 if dtype == np.float64 else 1e-3
        kept = all(a.dtype == dtype for a in (hs, dxs, *grads.values()))
        print(f"  check {name}: the kit's outputs, dL/dx and 12 gradients stay {name}: {'yes' if kept else 'NO'}")
        check(f"{name}: torch vs kit: outputs h_t",
              np.abs(out.detach().numpy().transpose(0, 2, 1) - hs).max(), tol)
        check(f"{name}: torch vs kit: dL/dWfh (torch weight_hh_l0 rows H:2H)",
              np.abs(lstm.weight_hh_l0.grad[H:2 * H].numpy() - grads["dWfh"]).max(), tol)
        check(f"{name}: torch vs kit: dL/dx", np.abs(X.grad.numpy().transpose(0, 2, 1) - dxs).max(), tol)
        n_hs, n_grads = naive_run()
        check(f"{name}: per-column loop vs kit: outputs and dWfh",
              max(np.abs(n_hs - hs).max(), np.abs(n_grads["dWfh"] - grads["dWfh"]).max()), tol)
        tokens = N * T
        # The per-column loop runs with 1 BLAS thread only: with OpenBLAS's threads on (H, 1)
        # columns it took 8-11 s a call on the loaded 2-core machine, for no information.
        cases += (numpy_cases("kit a5 lstm_forward + lstm_backward (numpy)", name, tokens, kit_run)
                  + torch_cases("torch nn.LSTM", name, tokens, torch_run)
                  + numpy_cases("naive: kit's functions one column at a time", name, tokens, naive_run, [1]))
        if experimental:
            def exp_run(xs=xs, h0=h0, c0=c0, params=params, G=G):
                hs, _, cache = experimental_lstm.lstm_forward(xs, h0, c0, params)
                return hs, experimental_lstm.lstm_backward(G, cache)
            e_hs, (e_dxs, _, _, e_grads) = exp_run()
            check(f"{name}: EXPERIMENTAL fused vs kit: outputs, dx, all grads",
                  max([np.abs(e_hs - hs).max(), np.abs(e_dxs - dxs).max()]
                      + [np.abs(e_grads[k] - grads[k]).max() for k in grads]), tol)
            cases += numpy_cases("EXPERIMENTAL fused copy (bench/experimental_lstm.py)", name, tokens, exp_run)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="rounds per figure (median and min–max printed)")
    parser.add_argument("--min-time", type=float, default=0.3, help="seconds of calls per figure and round")
    parser.add_argument("--part", choices=("all", "char-rnn", "lstm"), default="all")
    parser.add_argument("--dtype", choices=("float32", "float64"), action="append",
                        help="LSTM dtype (repeatable; default both)")
    parser.add_argument("--threads", choices=("both", "default", "1"), default="both",
                        help="rows with the default thread counts, with 1 thread, or both")
    parser.add_argument("--experimental", action="store_true",
                        help="also time bench/experimental_lstm.py (a patched copy; never published)")
    args = parser.parse_args()

    print(f"torch {torch.__version__}: torch.get_num_threads() = {DEFAULT_THREADS} (default); "
          f"torch rows run with {DEFAULT_THREADS} and with 1 thread (torch.set_num_threads)")
    print(f"numpy {np.__version__}: BLAS {numpy_blas()}; numpy rows run as it comes and with 1 thread")
    print(f"rounds: {args.repeat}, each at least {args.min_time} s per row; "
          f"load average before: {os.getloadavg()[0]:.1f} (machine: {os.cpu_count()} cores)\n")

    def keep(case: Case) -> bool:
        return args.threads == "both" or (case.threads == 1) == (args.threads == "1")

    if args.part in ("all", "char-rnn"):
        rnn = [c for c in char_rnn_cases() if keep(c)]
        measure(rnn, args.repeat, args.min_time)
        print_table("char-RNN, H = 100, T = 25, V = 65, batch 1: tokens/s of forward + backward "
                    "(ratios: to torch with the same dtype and threads)", rnn)
    if args.part in ("all", "lstm"):
        lstm = [c for c in lstm_cases(args.dtype or ("float32", "float64"), experimental=args.experimental)
                if keep(c)]
        measure(lstm, args.repeat, args.min_time)
        print_table("LSTM, N = 64, T = 80, D = 128, H = 128: tokens/s of forward + backward "
                    "(ratios: to torch with the same dtype and threads)", lstm)
        print(f"\nTarget: kit numpy LSTM fwd+bwd >= {TARGET}x torch nn.LSTM "
              "(same shapes, dtype, threads)")
        print("  (median: the published figure; best of the rounds: what a machine without other jobs approaches)")
        for kit in (c for c in lstm if c.name.startswith("kit")):
            ref = reference(lstm, kit)
            ratio, best = kit.median / ref.median, max(kit.samples) / max(ref.samples)
            cpu_ratio = statistics.median(kit.cpu_samples) / statistics.median(ref.cpu_samples)
            print(f"  {kit.dtype}, {kit.threads} thread(s) each: median {ratio:.2f}x "
                  f"{'met' if ratio >= TARGET else 'NOT met'}; best of {len(kit.samples)} {best:.2f}x "
                  f"{'met' if best >= TARGET else 'NOT met'}; CPU time {cpu_ratio:.2f}x")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
