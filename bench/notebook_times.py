"""Wall time of each solution notebook, top to bottom in a real kernel.

    python3 kit.py run python bench/notebook_times.py [--repeat N]

Each notebook runs in full mode and in grading mode (NBGRADER_EXECUTION=autograde,
as nbgrader sets it). The reference, measured in the same run, is a notebook
holding only the first code cell of the same assignment (its imports): what a
kernel start and the imports cost before any exercise runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import nbformat
from nbclient import NotebookClient

from helpers import COURSE_ROOT, instructor
from helpers.kernels import PrivateSocketKernelManager


def run_once(nb, folder, grading: bool) -> float:
    env_before = os.environ.get("NBGRADER_EXECUTION")
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        start = time.perf_counter()
        NotebookClient(nbformat.from_dict(nb), timeout=600, kernel_name="python3",
                       kernel_manager_class=PrivateSocketKernelManager,
                       resources={"metadata": {"path": str(folder)}}).execute()
        return time.perf_counter() - start
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before


def imports_only(nb):
    first = next(c for c in nb.cells if c.cell_type == "code")
    return nbformat.v4.new_notebook(cells=[first], metadata=nb.metadata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is printed)")
    args = parser.parse_args()
    os.environ.setdefault("RNN_KIT_NO_PROGRESS", "1")
    print(f"{'notebook':44s} {'full (s)':>9s} {'grading (s)':>12s} {'reference: imports only (s)':>28s}")
    for assignment in instructor.assignments():
        for path in sorted((COURSE_ROOT / "solutions" / assignment).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            times = {name: statistics.median(run_once(book, path.parent, grading) for _ in range(args.repeat))
                     for name, book, grading in (("full", nb, False), ("grading", nb, True),
                                                 ("reference", imports_only(nb), False))}
            name = f"{assignment}/{path.name}"
            print(f"{name:44s} {times['full']:9.1f} {times['grading']:12.1f} {times['reference']:28.1f}")


if __name__ == "__main__":
    main()
