"""The kit's own functions, taken from the solution notebooks: benchmarks time these, never copies.

    from solution_code import char_rnn, numpy_lstm   # bench/ is on sys.path for bench scripts
    ns = numpy_lstm()              # a dict: ns["lstm_forward"](xs, h0, c0, params), ...

`load(notebook, grade_ids)` reads a notebook of solutions/ with nbformat, takes the code cells
whose `metadata.nbgrader.grade_id` is in `grade_ids` (the graded function cells and the locked
helper cells they need) and runs them, in notebook order, in a fresh namespace that already holds
`np` (and `torch`). The notebooks' import cells are not run: they also import matplotlib and the
check helpers, which the functions do not use and which would weigh on timings and memory.
Test cells (nbgrader `grade: true` without `solution`) are refused: they run checks, not code.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"

# Cells each model needs, by notebook. a1's rnn_forward calls one_hot and rnn_step_forward,
# which calls softmax; a5's code-04 holds sigmoid (and lstm_param_shapes), code-19 torch_inputs.
CHAR_RNN = {"a1_rnn_forward/rnn_forward.ipynb": ("one_hot", "softmax", "rnn_step_forward", "rnn_forward"),
            "a2_rnn_backprop/rnn_backprop.ipynb": ("rnn_backward",)}
LSTM = {"a5_lstm/lstm.ipynb": ("code-04", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
                               "lstm_backward", "init_lstm_params", "code-19", "to_torch_lstm")}


def graded_cells(notebook: Path) -> dict[str, nbformat.NotebookNode]:
    """grade_id -> code cell, for every code cell of `notebook` that has one (in notebook order)."""
    nb = nbformat.read(notebook, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}


def load(notebook: str | Path, grade_ids, namespace: dict | None = None) -> dict:
    """Run the cells `grade_ids` of `notebook` (relative to solutions/) in `namespace`; return it."""
    path = SOLUTIONS / notebook
    cells = graded_cells(path)
    missing = sorted(set(grade_ids) - set(cells))
    if missing:
        raise KeyError(f"{path}: no code cells with grade_id {missing}")
    namespace = {"np": np} if namespace is None else namespace
    for grade_id, cell in cells.items():  # notebook order: helpers before the functions using them
        if grade_id not in grade_ids:
            continue
        meta = cell.metadata["nbgrader"]
        if meta.get("grade") and not meta.get("solution"):
            raise ValueError(f"{path}: {grade_id} is a test cell, not code to benchmark")
        exec(compile(cell.source, f"{path.name}[{grade_id}]", "exec"), namespace)
    return namespace


def load_all(spec: dict[str, tuple[str, ...]], namespace: dict | None = None) -> dict:
    """`load` for several notebooks into one namespace (later notebooks may override names)."""
    namespace = {"np": np} if namespace is None else namespace
    for notebook, grade_ids in spec.items():
        load(notebook, grade_ids, namespace)
    return namespace


def char_rnn() -> dict:
    """a1's one_hot, softmax, rnn_step_forward, rnn_forward and a2's rnn_backward (float64, batch 1)."""
    return load_all(CHAR_RNN)


def numpy_lstm() -> dict:
    """a5's sigmoid, lstm_step_forward/backward, lstm_forward/backward, init_lstm_params,
    torch_inputs and to_torch_lstm."""
    import torch

    return load_all(LSTM, {"np": np, "torch": torch})
