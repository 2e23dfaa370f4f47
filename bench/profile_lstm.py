"""Where the kit's numpy LSTM (a5) spends its time, line by line: the profile behind kernels.py's LSTM rows.

    python3 kit.py run python bench/profile_lstm.py [--dtype float64] [--threads 1] [--calls 2]

Runs the kit's lstm_forward + lstm_backward (N = 64, T = 80, D = 128, H = 128) under a small line
tracer that charges the CPU time (time.process_time) between two line events to the first line,
for the notebook's code only. CPU time of one thread, not wall time: on a shared machine it is what
the code costs, not how long it waited for a core (use --threads 1; with more BLAS threads the
spinning helpers are charged too). The tracer adds about a microsecond per line; the heavy lines
take 10-1000 times that.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time

import numpy as np

import solution_code
from kernels import BLAS


def line_times(fn, *args):
    """fn(*args) traced: {(cell, line number): [CPU seconds, hits]} for code from the notebooks."""
    totals = collections.defaultdict(lambda: [0.0, 0])
    last = [None, 0.0]

    def local(frame, event, arg):
        now = time.process_time()
        if last[0] is not None:
            totals[last[0]][0] += now - last[1]
        last[0] = (frame.f_code.co_filename, frame.f_lineno) if event == "line" else None
        if last[0]:
            totals[last[0]][1] += 1
        last[1] = time.process_time()
        return local

    def call(frame, event, arg):  # trace only frames of the notebooks' cells ("lstm.ipynb[...]")
        return local if ".ipynb[" in frame.f_code.co_filename else None

    sys.settrace(call)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=1, help="OpenBLAS threads")
    parser.add_argument("--calls", type=int, default=2, help="forward + backward calls to trace")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if BLAS.set:
        BLAS.set(args.threads)
    kit = solution_code.numpy_lstm()
    N, T, D, H = 64, 80, 128, 128
    rng = np.random.default_rng(1)
    params = {k: v.astype(args.dtype) for k, v in kit["init_lstm_params"](D, H, rng, "xavier").items()}
    xs, h0, G = (rng.normal(size=s).astype(args.dtype) for s in ((T, D, N), (H, N), (T, H, N)))

    def fwd_bwd():
        for _ in range(args.calls):
            _, _, cache = kit["lstm_forward"](xs, h0, h0, params)
            kit["lstm_backward"](G, cache)

    fwd_bwd()  # warm-up
    start = time.process_time()
    fwd_bwd()
    untraced = time.process_time() - start
    totals = line_times(fwd_bwd)
    traced = sum(t for t, _ in totals.values())
    sources = {}
    for cell in set(f for f, _ in totals):
        notebook, grade_id = cell.split("[")
        sources[cell] = solution_code.graded_cells(solution_code.SOLUTIONS / "a5_lstm" / notebook)[
            grade_id.rstrip("]")].source.splitlines()
    print(f"kit a5 LSTM, {args.dtype}, N = {N}, T = {T}, D = {D}, H = {H}, {args.threads} BLAS thread(s), "
          f"{args.calls} forward + backward calls")
    print(f"CPU time untraced {untraced:.3f} s ({args.calls * N * T / untraced:,.0f} tokens per CPU second); "
          f"traced {traced:.3f} s, by line:")
    print(f"{'share':>6s} {'CPU s':>7s} {'hits':>7s}  cell:line  source")
    for (cell, line), (t, hits) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:args.top]:
        grade_id = cell.split("[")[1][:-1]
        print(f"{t / traced:6.1%} {t:7.3f} {hits:7d}  {grade_id}:{line}  {sources[cell][line - 1].strip()}")


if __name__ == "__main__":
    main()
