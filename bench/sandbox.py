"""What the grading sandbox costs: one student's submission of every assignment, autograded with
and without it, in one run.

    python3 kit.py run python bench/sandbox.py [--rounds 2] [--only a1_rnn_forward ...]

In a scratch copy of the course (course_autograde.py's), one student submits the solution notebooks.
Each round grades every assignment twice with helpers.instructor.grade (what `kit.py grade` runs, one
job): in the bubblewrap sandbox, and with `--no-sandbox` as the reference; the order of the two
alternates from round to round so that neither always runs on a warmer machine. Printed per
assignment: the median wall time of `nbgrader autograde` (kernel start, every cell, saving the
grades) and of the whole grade() call each way, and sandboxed ÷ reference; then the whole course.
Target: the sandbox costs at most 10% of the autograde time.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_autograde import course_copy, points, profiled, submissions  # noqa: E402

from helpers import instructor  # noqa: E402

TARGET = 1.10


def grade_once(root: Path, folder: Path, assignment: str, db_url: str, sandbox: bool) -> tuple[float, float, str]:
    """(autograde seconds, grade() seconds, autograded points) of one grading of the submission."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            profiled({}) as spent:
        instructor.grade(folder, assignment, root=root, db_url=db_url, jobs=1, sandbox=sandbox)
    total = time.perf_counter() - start
    _, _, auto, most = points(db_url, assignment)
    return spent.get("autograde", 0.0), total, f"{auto:g}/{most:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="gradings of each assignment each way (default 2)")
    parser.add_argument("--only", nargs="*", help="assignments to grade (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("RNN_KIT_NO_PROGRESS", "1")
    instructor.check_available()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnn-kit-sandbox-bench-") as scratch:
        tmp = Path(scratch)
        root = course_copy(tmp)
        for assignment in args.only or instructor.assignments(root):
            folder = submissions(tmp, assignment)
            times = {True: [], False: []}
            marks = {}
            for k in range(args.rounds):
                for sandbox in ((True, False) if k % 2 == 0 else (False, True)):
                    db_url = f"sqlite:///{tmp / f'gradebook-{sandbox}.db'}"
                    auto, total, marks[sandbox] = grade_once(root, folder, assignment, db_url, sandbox)
                    times[sandbox].append((auto, total))
            median = {s: [statistics.median(t[i] for t in times[s]) for i in (0, 1)] for s in times}
            rows.append((assignment, *median[True], *median[False], marks[True], marks[False]))
    load = os.getloadavg()[0]
    print(f"one student, {args.rounds} round(s) each way, medians; load average {load:.1f} "
          f"({os.cpu_count()} cores)\n")
    head = ("autograde sandboxed (s)", "reference: no sandbox (s)", "ratio",
            "grade() sandboxed (s)", "grade() no sandbox (s)")
    print(f"{'assignment':22s} " + " ".join(f"{h:>{len(h)}s}" for h in head) + "  points (sandboxed / not)")
    for assignment, auto_s, total_s, auto_n, total_n, marks_s, marks_n in rows:
        figures = (auto_s, auto_n, auto_s / auto_n, total_s, total_n)
        print(f"{assignment:22s} " + " ".join(f"{x:{len(h)}.2f}" for h, x in zip(head, figures))
              + f"  {marks_s} / {marks_n}")
    sums = [sum(r[i] for r in rows) for i in (1, 2, 3, 4)]
    ratio = sums[0] / sums[2]
    figures = (sums[0], sums[2], ratio, sums[1], sums[3])
    print(f"{'whole course':22s} " + " ".join(f"{x:{len(h)}.2f}" for h, x in zip(head, figures)))
    print(f"\nsandbox cost on the whole course's autograde time: {100 * (ratio - 1):+.1f}% "
          f"(target at most {100 * (TARGET - 1):.0f}%: {'met' if ratio <= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
