"""Wall time of autograding one student's whole course: every assignment, with nbgrader, as an
instructor runs it.

    python3 kit.py run python bench/course_autograde.py

In a scratch copy of the course (nbgrader_config.py and solutions/, its own SQLite gradebook), one
student submits the solution notebooks of every assignment. For each assignment in course order
this runs helpers.instructor.grade (what `python3 kit.py grade SUBMISSIONS -a ASSIGNMENT` runs:
import, generate the release into the gradebook, `nbgrader autograde` with its kernel, export the
CSV), one job. Printed per assignment: the wall time of grade() and the score, beside the
reference measured in the same run: the same notebook executed alone in grading mode
(NBGRADER_EXECUTION=autograde) by nbclient, without nbgrader. The difference is nbgrader's own
cost; the profile columns split grade() into its nbgrader processes (generate_assignment into the
gradebook, autograde with its kernel, export) and the rest (import, in this process).
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import nbformat  # noqa: E402
from notebook_times import run_once  # noqa: E402

from helpers import COURSE_ROOT, instructor  # noqa: E402
from helpers.instructor import grading, release  # noqa: E402

STUDENT = "student"
PHASES = ("generate_assignment", "autograde", "export")


def course_copy(tmp: Path) -> Path:
    root = tmp / "course"
    root.mkdir()
    shutil.copy2(COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(COURSE_ROOT / "solutions", root / "solutions")
    return root


def submissions(tmp: Path, assignment: str) -> Path:
    """<tmp>/submitted-<assignment>/student/<notebook>.ipynb: the solutions, as the student's files."""
    folder = tmp / f"submitted-{assignment}" / STUDENT
    folder.mkdir(parents=True)
    for nb in sorted((COURSE_ROOT / "solutions" / assignment).glob("*.ipynb")):
        shutil.copyfile(nb, folder / nb.name)
    return folder.parent


def points(db_url: str, assignment: str, student: str = STUDENT) -> tuple[float, float, float, float]:
    """(score, max score, score of the autograded cells, their max) of a submission in the gradebook."""
    with instructor.gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student)
        code = [g for nb in sub.notebooks for g in nb.grades if g.cell.cell_type == "code"]
        return sub.score, sub.max_score, sum(g.score for g in code), sum(g.max_score for g in code)


@contextlib.contextmanager
def profiled(spent: dict):
    """Add the wall time of each nbgrader process that helpers.instructor starts to spent[subcommand]."""
    def timed(func, name_of):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                name = name_of(args)
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    # Each module of helpers.instructor holds its own reference to nbgrader(): time them all.
    patched = [(module, "nbgrader", lambda args: args[2]) for module in (release, grading)]   # (root, db_url, subcommand, ...)
    patched.append((grading, "_autograde_watched", lambda args: args[2][0]))
    originals = [(module, name, getattr(module, name)) for module, name, _ in patched]
    for module, name, name_of in patched:
        setattr(module, name, timed(getattr(module, name), name_of))
    try:
        yield spent
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def main() -> None:
    os.environ.setdefault("RNN_KIT_NO_PROGRESS", "1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnn-kit-course-") as scratch:
        tmp = Path(scratch)
        root = course_copy(tmp)
        db_url = f"sqlite:///{tmp / 'gradebook.db'}"
        for assignment in instructor.assignments(root):
            reference = sum(run_once(nbformat.read(nb, as_version=4), nb.parent, grading=True)
                            for nb in sorted((root / "solutions" / assignment).glob("*.ipynb")))
            folder = submissions(tmp, assignment)
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), profiled({}) as spent:
                instructor.grade(folder, assignment, root=root, db_url=db_url, jobs=1)
            seconds = time.perf_counter() - start
            phases = [spent.get(name, 0.0) for name in PHASES]
            _, _, auto, auto_most = points(db_url, assignment)
            rows.append((assignment, seconds, reference, *phases, seconds - sum(phases), f"{auto:g}/{auto_most:g}"))
    print(f"one student, every assignment; load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)\n")
    columns = ["grade() (s)", "reference: notebook alone (s)", *PHASES, "rest"]
    print(f"{'assignment':22s} " + " ".join(f"{c:>{max(len(c), 8)}s}" for c in columns) + "  autograded points")
    for assignment, *figures, marks in rows:
        print(f"{assignment:22s} " + " ".join(f"{x:{max(len(c), 8)}.1f}" for c, x in zip(columns, figures))
              + f"  {marks}")
    totals = [sum(r[i] for r in rows) for i in range(1, len(columns) + 1)]
    print(f"{'whole course':22s} " + " ".join(f"{x:{max(len(c), 8)}.1f}" for c, x in zip(columns, totals)))


if __name__ == "__main__":
    main()
