"""Instructor commands, on nbgrader's own machinery (no home-made grader).

    rnn-kit release [ASSIGNMENT ...]       regenerate notebooks/ and helpers/expected/ from solutions/
    rnn-kit grade SUBMISSIONS -a ASSIGNMENT [--csv grades.csv] [--jobs N] [--db-url URL]

`python3 kit.py release` and `python3 kit.py grade ...` run these inside the
course environment. SUBMISSIONS is a folder with one sub-folder per student,
holding the student's notebook(s) either directly (`alice/rnn_forward.ipynb`)
or in nbgrader's layout (`alice/a1_rnn_forward/rnn_forward.ipynb`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from helpers import COURSE_ROOT

GRADING = "grading"


class GradingError(RuntimeError):
    """A grading step cannot go on; the message says what to do."""


def assignments(root: Path = COURSE_ROOT) -> list[str]:
    """Assignment ids: the folders of solutions/ that hold notebooks, sorted."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def default_db_url(root: Path) -> str:
    return os.environ.get("RNN_KIT_DB_URL") or f"sqlite:///{root / GRADING / 'gradebook.db'}"


def _environment() -> dict[str, str]:
    # nbgrader starts alembic and the kernel from PATH: put this environment first.
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def nbgrader(root: Path, db_url: str, *args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    """Run one nbgrader command on the course in `root` with the gradebook at `db_url`."""
    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url}"]
    proc = subprocess.run(cmd, cwd=root, env=_environment(), text=True, capture_output=True)
    if not quiet or proc.returncode:
        sys.stderr.write(proc.stdout + proc.stderr)
    return proc


def _check_assignment(root: Path, assignment: str) -> None:
    known = assignments(root)
    if assignment not in known:
        raise GradingError(f"unknown assignment {assignment!r}: the course has {', '.join(known) or 'none'}")


def generate_release(root: Path = COURSE_ROOT, *, release_dir: Path | None = None,
                     db_url: str | None = None, only: list[str] | None = None) -> Path:
    """Write the student versions of `solutions/` into `release_dir` (default notebooks/)."""
    release_dir = Path(release_dir or root / "notebooks")
    db_url = db_url or default_db_url(root)
    (root / GRADING).mkdir(exist_ok=True)
    for assignment in only or assignments(root):
        _check_assignment(root, assignment)
        proc = nbgrader(root, db_url, "generate_assignment", assignment, "--force",
                        f"--CourseDirectory.release_directory={release_dir}", quiet=True)
        if proc.returncode:
            raise GradingError(f"nbgrader generate_assignment {assignment} failed (output above)")
    return release_dir


def expected_prefix(assignment: str) -> str:
    """The key prefix (and file stem in helpers/expected/) of an assignment: a1_rnn_forward -> a1."""
    return assignment.split("_", 1)[0]


def record_expected(root: Path = COURSE_ROOT, *, out_dir: Path | None = None,
                    weights_dir: Path | None = None, only: list[str] | None = None,
                    prelude: str | None = None) -> Path:
    """Run the solution notebooks in record mode: their visible tests store the expected values.

    Each assignment's values are recorded in a scratch folder and replace
    `out_dir/<prefix>.json` only once all its notebooks ran without error.
    Weights a solution trains for later assignments go to `weights_dir`
    (default helpers/weights/; see helpers.pretrained.kit_weights_target).
    `prelude`, if given, runs in each kernel before the notebook (the tests use
    it to inspect every figure drawn).
    """
    from nbclient import NotebookClient

    from helpers.pretrained import WEIGHTS_DIR_ENV

    out_dir = Path(out_dir or root / "helpers" / "expected")
    out_dir.mkdir(parents=True, exist_ok=True)
    build_env = {"RNN_KIT_RECORD_EXPECTED": None, WEIGHTS_DIR_ENV: str(weights_dir or root / "helpers" / "weights")}
    for assignment in only or assignments(root):
        name = f"{expected_prefix(assignment)}.json"
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            build_env["RNN_KIT_RECORD_EXPECTED"] = scratch
            saved = {k: os.environ.get(k) for k in build_env}
            os.environ.update(build_env)  # the kernels inherit them
            try:
                for path in sorted((root / "solutions" / assignment).glob("*.ipynb")):
                    nb = nbformat.read(path, as_version=4)
                    if prelude:
                        nb.cells.insert(0, nbformat.v4.new_code_cell(prelude))
                    NotebookClient(nb, timeout=1200, kernel_name="python3",
                                   resources={"metadata": {"path": str(path.parent)}}).execute()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            if not (Path(scratch) / name).is_file():
                raise GradingError(f"{assignment}: the solutions recorded no expected values "
                                   f"(no check_expected call with a key starting {name[:-5]}.)")
            os.replace(Path(scratch) / name, out_dir / name)
    return out_dir


def find_submissions(folder: Path, assignment: str, notebooks: list[str]) -> dict[str, dict[str, Path]]:
    """Map student id -> {notebook name -> submitted file} for one assignment."""
    if not folder.is_dir():
        raise GradingError(f"submissions folder {folder} does not exist: give the folder that holds one "
                           "sub-folder per student")
    found: dict[str, dict[str, Path]] = {}
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        base = student / assignment if (student / assignment).is_dir() else student
        files = {nb: base / f"{nb}.ipynb" for nb in notebooks if (base / f"{nb}.ipynb").is_file()}
        if files:
            found[student.name] = files
        else:
            print(f"warning: {student.name} submitted no notebook named "
                  f"{', '.join(n + '.ipynb' for n in notebooks)}; graded as missing", file=sys.stderr)
    if not found:
        raise GradingError(f"no submissions for {assignment} in {folder}: expected "
                           f"{folder}/<student>/{notebooks[0]}.ipynb")
    return found


def grade(submissions: Path, assignment: str, *, root: Path = COURSE_ROOT, csv: Path | None = None,
          db_url: str | None = None, jobs: int | None = None) -> Path:
    """Autograde every student's submission with nbgrader and export the gradebook to CSV."""
    _check_assignment(root, assignment)
    db_url = db_url or default_db_url(root)
    notebooks = sorted(p.stem for p in (root / "solutions" / assignment).glob("*.ipynb"))
    found = find_submissions(Path(submissions), assignment, notebooks)
    # The gradebook needs the source cells, including the hidden tests, of this assignment.
    generate_release(root, release_dir=root / GRADING / "release", db_url=db_url, only=[assignment])
    for student, files in found.items():
        target = root / GRADING / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for nb, path in files.items():
            shutil.copy2(path, target / f"{nb}.ipynb")
    failed = autograde(root, db_url, assignment, list(found), jobs=jobs)
    csv = Path(csv or root / GRADING / f"grades-{assignment}.csv")
    export_csv(root, db_url, csv)
    print(f"graded {len(found) - len(failed)} of {len(found)} submissions; grades in {csv}")
    if failed:
        print("nbgrader could not grade: " + ", ".join(failed), file=sys.stderr)
    return csv


def autograde(root: Path, db_url: str, assignment: str, students: list[str], *, jobs: int | None = None) -> list[str]:
    """One `nbgrader autograde --student` process per student, `jobs` at a time; returns the failures."""
    def one(student: str) -> str | None:
        proc = nbgrader(root, db_url, "autograde", assignment, f"--student={student}", "--force", quiet=True)
        return student if proc.returncode else None

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return [s for s in pool.map(one, students) if s]


def export_csv(root: Path, db_url: str, csv: Path) -> None:
    """nbgrader's own CSV export, written to a temporary file first so a failure leaves no half file."""
    csv.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".csv", dir=csv.parent)
    os.close(fd)
    try:
        proc = nbgrader(root, db_url, "export", f"--to={tmp}", quiet=True)
        if proc.returncode:
            raise GradingError("nbgrader export failed (output above)")
        os.replace(tmp, csv)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnn-kit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="regenerate notebooks/ and the visible tests' expected values")
    rel.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    rel.add_argument("--no-expected", action="store_true", help="do not re-run the solutions to record expected values")
    gr = sub.add_parser("grade", help="autograde a folder of submissions and export grades to CSV")
    gr.add_argument("submissions", type=Path, help="folder with one sub-folder per student")
    gr.add_argument("-a", "--assignment", required=True, help="assignment id, e.g. a1_rnn_forward")
    gr.add_argument("--csv", type=Path, help="where to write the grades (default grading/grades-ASSIGNMENT.csv)")
    gr.add_argument("--jobs", type=int, help="students graded at once (default: number of CPUs)")
    gr.add_argument("--db-url", help="gradebook URL (default sqlite in grading/; or postgresql+psycopg2://...)")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            out = generate_release(only=args.assignments or None)
            print(f"released into {out}")
            if not args.no_expected:
                print(f"expected values recorded in {record_expected(only=args.assignments or None)}")
        else:
            grade(args.submissions, args.assignment, csv=args.csv, db_url=args.db_url, jobs=args.jobs)
    except GradingError as err:
        print(f"rnn-kit: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
