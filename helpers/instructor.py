"""Instructor commands, on nbgrader's own machinery (no home-made grader).

    rnn-kit release [ASSIGNMENT ...]                  regenerate notebooks/ and helpers/expected/ from solutions/
    rnn-kit import SUBMISSIONS -a ASSIGNMENT          copy a class's notebooks into nbgrader's submitted/ folder
    rnn-kit grade [SUBMISSIONS] -a ASSIGNMENT         autograde (in parallel) and export the grades to CSV
    rnn-kit export [--csv grades.csv] [-a ASSIGNMENT] nbgrader's CSV export of the gradebook
    rnn-kit feedback -a ASSIGNMENT [--student ID]     HTML feedback without the hidden tests
    rnn-kit grade-one NOTEBOOK [-a ASSIGNMENT]        grade one notebook; per-cell scores as JSON

`python3 kit.py COMMAND ...` runs these inside the course environment.
SUBMISSIONS is a folder or a .zip file (as downloaded from an LMS) holding

- one sub-folder per student: `alice/rnn_forward.ipynb`, or nbgrader's layout
  `alice/a1_rnn_forward/rnn_forward.ipynb`;
- flat files `<student>_<anything>.ipynb` (Canvas: `smithalice_12345_67890_rnn_forward.ipynb`,
  `smithalice_LATE_12345_67890_rnn_forward-1.ipynb`): the student id is the text before the
  first `_`;
- Moodle's `<Full Name>_<number>_assignsubmission_file_<file>` (a file, or a folder holding
  the file): the student id is the name in lower case with `-` between words (`alice-smith`).

An assignment with one notebook takes any notebook file name; with several, the
file name must end with the notebook's name (`..._rnn_forward.ipynb`, Canvas's
`-1` re-submission suffix and ` (1)` allowed). Names that give no student id, two
files for one student's notebook, and ids that are not letters, digits and
`. _ @ -` are refused with the list of all such problems, and nothing is imported.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers import COURSE_ROOT

GRADING = "grading"
#: Seconds one submission may take to autograde as a whole (every cell also has its own limit,
#: RNN_KIT_CELL_TIMEOUT): a kernel that ignores interrupts would otherwise cost a cell timeout per cell.
SUBMISSION_TIMEOUT_ENV = "RNN_KIT_SUBMISSION_TIMEOUT"
DEFAULT_SUBMISSION_TIMEOUT = 900
#: The student id under which `grade-one` grades its notebook, in a scratch gradebook.
GRADE_ONE_STUDENT = "student"


class GradingError(RuntimeError):
    """A grading step cannot go on; the message says what to do."""


def assignments(root: Path = COURSE_ROOT) -> list[str]:
    """Assignment ids: the folders of solutions/ that hold notebooks, sorted."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_names(root: Path, assignment: str) -> list[str]:
    """The notebooks of an assignment (file stems in solutions/ASSIGNMENT/), sorted."""
    return sorted(p.stem for p in (root / "solutions" / assignment).glob("*.ipynb"))


def default_db_url(root: Path) -> str:
    return os.environ.get("RNN_KIT_DB_URL") or f"sqlite:///{root / GRADING / 'gradebook.db'}"


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _environment(threads: int | None = None) -> dict[str, str]:
    # nbgrader starts alembic and the kernel from PATH: put this environment first.
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if threads:
        # Kernels graded side by side share the cores: BLAS and torch thread pools sized for the
        # whole machine then spin against each other (measured: 20x slower small matmuls under
        # load). A value the instructor set wins.
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(threads))
    return env


def _gradebook(db_url: str):
    """nbgrader's Gradebook in this process; it runs `alembic` from PATH when it creates a database."""
    from nbgrader.api import Gradebook

    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return Gradebook(db_url)


def _kill_tree(pid: int) -> None:
    """Kill a process and everything it started (nbgrader starts kernels in sessions of their own)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with IPython
        os.killpg(pid, signal.SIGKILL)
        return
    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


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


# --------------------------------------------------------------------------------------------
# Importing submissions

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
# Moodle: "Alice Smith_123456_assignsubmission_file_<file>" (or a folder "..._assignsubmission_file_");
# other submission plugins (onlinetext) give folders without notebooks.
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<number>\d+)_assignsubmission_[a-z]+_(?P<rest>.*)$")
# What an LMS or a browser appends to a file name it has seen before: "-1" (Canvas), " (1)".
COPY_SUFFIX = re.compile(r"(?:-\d+| \(\d+\))$")
SKIPPED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}


@dataclass
class Submissions:
    """What a folder of submissions holds for one assignment."""

    #: student id -> {notebook name -> file}
    found: dict[str, dict[str, Path]] = field(default_factory=dict)
    #: students with a folder but none of the assignment's notebooks
    missing: list[str] = field(default_factory=list)
    #: things worth telling the instructor that do not stop the import
    warnings: list[str] = field(default_factory=list)


def moodle_student_id(full_name: str, number: str) -> str:
    """Moodle's "Alice Smith" -> alice-smith (accents dropped); a name without latin letters -> moodle-<number>."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or f"moodle-{number}"


def _which_notebook(stem: str, notebooks: list[str]) -> str | None:
    """The notebook a file stem names: the notebook's name, alone or after a `_`, with copy suffixes."""
    base = COPY_SUFFIX.sub("", stem)
    for name in sorted(notebooks, key=len, reverse=True):
        if base == name or base.endswith("_" + name):
            return name
    return None


def _notebooks_in(folder: Path, skip: set[str] = frozenset()) -> list[Path]:
    """Notebook files under `folder`, except in hidden folders and in the folders named in `skip`."""
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not any(
        part.startswith(".") or part in SKIPPED_NAMES or part in skip
        for part in p.relative_to(folder).parent.parts) and not p.name.startswith("."))


def _files_for(folder: Path, notebooks: list[str], where: str, problems: list[str],
               skip: set[str] = frozenset()) -> dict[str, Path]:
    """A student's folder: {notebook -> file}; one file per notebook, named after it unless there is one notebook."""
    files = _notebooks_in(folder, skip)
    out: dict[str, list[Path]] = {}
    for path in files:
        name = _which_notebook(path.stem, notebooks)
        if name is None and len(notebooks) == 1 and len(files) == 1:
            name = notebooks[0]  # one notebook in the assignment and one file: whatever its name
        if name is not None:
            out.setdefault(name, []).append(path)
    for name, paths in sorted(out.items()):
        if len(paths) > 1:
            problems.append(f"{where}: {len(paths)} files could be {name}.ipynb "
                            f"({', '.join(str(p.relative_to(folder)) for p in paths)}); keep one")
    if not out and files:
        problems.append(f"{where}: {len(files)} notebooks ({', '.join(p.name for p in files[:4])}"
                        f"{', ...' if len(files) > 4 else ''}), none named "
                        f"{' or '.join(n + '.ipynb' for n in notebooks)}; rename the one to grade "
                        "(or, if these are flat files <student>_<anything>.ipynb, import that folder itself)")
    return {name: paths[0] for name, paths in out.items()}


def scan_submissions(folder: Path, assignment: str, notebooks: list[str], *,
                     root: Path = COURSE_ROOT) -> Submissions:
    """Read a folder of submissions (layouts and names in the module docstring) without copying anything.

    Raises GradingError listing every file or folder whose student or notebook is unclear.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise GradingError(f"submissions folder {folder} does not exist: give the folder that holds one "
                           "sub-folder per student (or the flat files, or the LMS's .zip)")
    result, problems = Submissions(), []
    origin: dict[tuple[str, str], str] = {}
    # A student folder in nbgrader's layout may hold other assignments too: never look inside those.
    others = set(assignments(root)) - {assignment}

    def add(student: str, files: dict[str, Path], where: str) -> None:
        for name, path in files.items():
            if (student, name) in origin:
                problems.append(f"{where} and {origin[student, name]} are both {student}'s {name}.ipynb; "
                                "keep one")
                continue
            origin[student, name] = where
            result.found.setdefault(student, {})[name] = path

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIPPED_NAMES:
            continue
        moodle = MOODLE.match(entry.name)
        if entry.is_dir():
            if moodle:
                student = moodle_student_id(moodle["name"], moodle["number"])
            elif STUDENT_ID.match(entry.name):
                student = entry.name
            else:
                problems.append(f"{entry.name}/: not a student id (letters, digits and . _ @ - only); rename "
                                "the folder")
                continue
            base = entry / assignment if (entry / assignment).is_dir() else entry
            files = _files_for(base, notebooks, f"{entry.name}/", problems, others)
            if files:
                add(student, files, f"{entry.name}/")
            elif not _notebooks_in(base, others):
                result.missing.append(student)
        elif entry.suffix == ".ipynb":
            if moodle:
                student, rest = moodle_student_id(moodle["name"], moodle["number"]), Path(moodle["rest"]).stem
            elif any(COPY_SUFFIX.sub("", entry.stem) == n or entry.stem.startswith(n + "_") for n in notebooks):
                problems.append(f"{entry.name}: starts with the notebook's name, so no student id; name it "
                                f"<student>_<anything>.ipynb")
                continue
            elif "_" not in entry.stem:
                problems.append(f"{entry.name}: not <student>_<anything>.ipynb, so no student id; rename it")
                continue
            else:
                student, rest = entry.stem.split("_", 1)
                if not STUDENT_ID.match(student):
                    problems.append(f"{entry.name}: {student!r} is not a student id (letters, digits and . @ - "
                                    "only); rename the file")
                    continue
            name = _which_notebook(rest, notebooks) or (notebooks[0] if len(notebooks) == 1 else None)
            if name is None:
                problems.append(f"{entry.name}: which notebook is it? The name must end with "
                                f"{' or '.join(n + '.ipynb' for n in notebooks)}")
                continue
            add(student, {name: entry}, entry.name)
        else:
            result.warnings.append(f"ignored {entry.name}: not a notebook or a student folder")
    if problems:
        raise GradingError(f"cannot tell whose submission some files in {folder} are; nothing was imported:\n  - "
                           + "\n  - ".join(problems)
                           + "\nNames accepted: see `rnn-kit import --help` or the README's instructor guide.")
    result.missing = sorted(set(result.missing) - set(result.found))
    return result


def find_submissions(folder: Path, assignment: str, notebooks: list[str]) -> dict[str, dict[str, Path]]:
    """Map student id -> {notebook name -> submitted file} for one assignment."""
    scan = scan_submissions(folder, assignment, notebooks)
    for student in scan.missing:
        print(f"warning: {student} submitted no notebook named "
              f"{', '.join(n + '.ipynb' for n in notebooks)}; graded as missing", file=sys.stderr)
    if not scan.found:
        raise GradingError(f"no submissions for {assignment} in {folder}: expected "
                           f"{folder}/<student>/{notebooks[0]}.ipynb or {folder}/<student>_{notebooks[0]}.ipynb")
    return scan.found


def _unzip(archive: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                parts = Path(member.filename).parts
                if member.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise GradingError(f"{archive}: unsafe path {member.filename!r} in the zip file; nothing was "
                                       "imported")
            zf.extractall(into)
    except zipfile.BadZipFile as err:
        raise GradingError(f"{archive} is not a readable zip file ({err}): give the LMS's download as it came, "
                           "or the folder it unpacks to") from None
    return into


def _cell_ids(path: Path, graded_only: bool = False) -> tuple[set[str] | None, str | None]:
    """The nbgrader cell ids of a notebook file (only exercise and test cells with `graded_only`),
    or None and why the file cannot be read."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - any reason the file is not a notebook
        return None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")
    metas = [c.get("metadata", {}).get("nbgrader", {}) for c in nb.cells]
    return {m.get("grade_id") for m in metas if not graded_only or m.get("grade") or m.get("solution")} - {None}, None


def register_students(db_url: str, students: list[str]) -> None:
    """Put students in the gradebook (nbgrader's own API), so that the CSV lists them even without a grade."""
    with _gradebook(db_url) as gb:
        for student in students:
            gb.update_or_create_student(student)


def import_submissions(source: Path, assignment: str, *, root: Path = COURSE_ROOT,
                       db_url: str | None = None) -> Submissions:
    """Copy a class's notebooks (folder or zip) into grading/submitted/<student>/<assignment>/.

    Nothing is copied unless every file's student and notebook are clear. A
    student already imported for this assignment is replaced (the newer download
    wins); other students stay.
    """
    _check_assignment(root, assignment)
    source = Path(source)
    db_url = db_url or default_db_url(root)
    notebooks = notebook_names(root, assignment)
    with tempfile.TemporaryDirectory(prefix="rnn-kit-import-") as scratch:
        folder = _unzip(source, Path(scratch) / "unzipped") if source.is_file() else source
        scan = scan_submissions(folder, assignment, notebooks, root=root)
        if not scan.found:
            for student in scan.missing:
                print(f"warning: {student} submitted no notebook named "
                      f"{', '.join(n + '.ipynb' for n in notebooks)}", file=sys.stderr)
            raise GradingError(f"no submissions for {assignment} in {source}: expected "
                               f"<student>/{notebooks[0]}.ipynb or <student>_{notebooks[0]}.ipynb; "
                               "nothing was imported")
        expected_ids = set()
        for path in (root / "solutions" / assignment).glob("*.ipynb"):
            expected_ids |= _cell_ids(path, graded_only=True)[0] or set()
        for student, files in sorted(scan.found.items()):
            for name, path in sorted(files.items()):
                ids, error = _cell_ids(path)
                if ids is None:
                    scan.warnings.append(f"{student}: {path.name} is not a readable notebook ({error}); "
                                         "it will score 0")
                elif not ids & expected_ids:
                    scan.warnings.append(f"{student}: {path.name} holds none of {assignment}'s cells (a notebook "
                                         "of another assignment?); it will score 0")
        submitted = root / GRADING / "submitted"
        for student, files in sorted(scan.found.items()):
            staging = submitted / student / f".{assignment}.importing"
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            for name, path in files.items():
                shutil.copyfile(path, staging / f"{name}.ipynb")
            target = submitted / student / assignment
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
    register_students(db_url, sorted(set(scan.found) | set(scan.missing)))
    for student in scan.missing:
        scan.warnings.append(f"{student} submitted no notebook named {', '.join(n + '.ipynb' for n in notebooks)}; "
                             "graded as missing (0)")
    return scan


def imported_students(root: Path, assignment: str) -> list[str]:
    """Students with a notebook of `assignment` in grading/submitted/."""
    submitted = root / GRADING / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if any((p / assignment).glob("*.ipynb")))


# --------------------------------------------------------------------------------------------
# Grading

# A kernel that dies before it answers its first request has run none of the submission (seen under
# load when kernels start side by side): such a student is graded once more before scoring 0.
KERNEL_NEVER_STARTED = "Kernel died before replying to kernel_info"


def _failure_reason(output: str) -> str:
    if "DeadKernelError" in output or "Kernel died" in output:
        return "the kernel died while running the notebook (os._exit, a crash, or out of memory)"
    for marker in ("NotJSONError", "Notebook does not appear to be JSON", "JSONDecodeError",
                   "Unreadable Notebook", "NBFormatError"):
        if marker in output:
            return "not a valid notebook file"
    lines = [line.strip() for line in output.splitlines() if re.match(r"^\s*[A-Za-z_.]+(Error|Exception)\b", line)]
    return f"nbgrader failed: {lines[-1]}" if lines else "nbgrader failed (its output is above)"


def _zero_scores(db_url: str, assignment: str, student: str) -> None:
    """A submission that could not be graded earns nothing, whatever an earlier run had saved."""
    from nbgrader.api import MissingEntry

    with _gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
        gb.db.commit()


def submission_timeout() -> float:
    value = os.environ.get(SUBMISSION_TIMEOUT_ENV, str(DEFAULT_SUBMISSION_TIMEOUT))
    try:
        seconds = float(value)
    except ValueError:
        raise GradingError(f"{SUBMISSION_TIMEOUT_ENV}={value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise GradingError(f"{SUBMISSION_TIMEOUT_ENV}={value!r} must be a positive number of seconds")
    return seconds


# nbgrader logs this line as it starts on each student's submission.
_STARTS = re.compile(r"Creating/updating student with ID '(?P<student>[^']*)'")
_SUMMARY = "There was an error processing assignment '"


def _autograde_watched(root: Path, db_url: str, args: list[str], timeout: float,
                       threads: int | None = None) -> tuple[dict[str, list[str]], str | None, str]:
    """Run one `nbgrader autograde` on several students, watching how long each one takes.

    Returns each student's log lines, the student that ran past `timeout`
    seconds (then nbgrader was killed with its kernel) or None, and the log
    lines that belong to no student.
    """
    import threading

    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url}"]
    proc = subprocess.Popen(cmd, cwd=root, env=_environment(threads), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    logs: dict[str, list[str]] = {}
    state = {"current": None, "since": time.monotonic(), "preamble": []}
    lock = threading.Lock()

    def read() -> None:
        for line in proc.stdout:
            with lock:
                started = _STARTS.search(line)
                if started:
                    state["current"], state["since"] = started["student"], time.monotonic()
                    logs.setdefault(started["student"], [])
                elif _SUMMARY in line:
                    state["current"] = None        # nbgrader's closing summary belongs to no one
                (logs[state["current"]] if state["current"] else state["preamble"]).append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    overdue = None
    while proc.poll() is None:
        time.sleep(0.5)
        with lock:
            if state["current"] and time.monotonic() - state["since"] > timeout:
                overdue = state["current"]
        if overdue:
            _kill_tree(proc.pid)
            break
    proc.wait()
    reader.join(30)
    return logs, overdue, "".join(state["preamble"])


def autograde(root: Path, db_url: str, assignment: str, students: list[str], *, jobs: int | None = None,
              timeout: float | None = None, reasons: dict[str, str] | None = None) -> list[str]:
    """nbgrader autograde of `students`, `jobs` processes at a time; returns the failures.

    Each process grades a share of the students (nbgrader's start-up costs a few
    seconds per process); a submission that runs past `timeout` seconds is
    stopped with its kernel, and the rest of its share goes on in a new process.
    A submission that fails has no autograded copy and scores 0 in every cell;
    `reasons` receives why.
    """
    timeout = timeout or submission_timeout()
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(students) or 1))
    threads = max(1, (os.cpu_count() or 1) // jobs)   # each kernel's share of the cores
    submitted = root / GRADING / "submitted"
    everyone = sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
    size = -(-len(students) // (2 * jobs))          # two shares per process: a slow share does not hold up the rest
    shares = [sorted(students)[i:i + size] for i in range(0, len(students), size)] if students else []

    def grade_share(share: list[str]) -> dict[str, str | None]:
        outcome: dict[str, str | None] = {}
        remaining, retried = list(share), set()
        while remaining:   # one process, and another for the rest if one of them had to be stopped
            args = ["autograde", assignment, "--force"]
            if len(remaining) == 1:
                args.append(f"--student={remaining[0]}")
            else:
                others = sorted(set(everyone) - set(remaining))
                if others:
                    args.append("--CourseDirectory.student_id_exclude=" + ",".join(others))
            logs, overdue, preamble = _autograde_watched(root, db_url, args, timeout, threads)
            for student in remaining:
                if student == overdue:
                    outcome[student] = (f"grading took longer than {timeout:g} s and was stopped (a loop that "
                                        "ignores interrupts?)")
                elif student in logs:
                    graded = any((root / GRADING / "autograded" / student / assignment).glob("*.ipynb"))
                    if not graded and KERNEL_NEVER_STARTED in "".join(logs[student]) and student not in retried:
                        retried.add(student)   # no cell of theirs ran: the machine's fault, not theirs
                        continue
                    outcome[student] = None if graded else _failure_reason("".join(logs[student]))
                    if not graded:
                        sys.stderr.write(f"--- nbgrader on {student}:\n" + "".join(logs[student]))
                elif not logs:   # nbgrader stopped before any student: the reason is in its preamble
                    sys.stderr.write(preamble)
                    outcome[student] = _failure_reason(preamble)
            remaining = [s for s in remaining if s not in outcome]
        return outcome

    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for outcome in pool.map(grade_share, shares):
            failed.update({student: reason for student, reason in outcome.items() if reason})
    for student in failed:
        shutil.rmtree(root / GRADING / "autograded" / student / assignment, ignore_errors=True)
        _zero_scores(db_url, assignment, student)
    if reasons is not None:
        reasons.update(failed)
    return sorted(failed)


def export_csv(root: Path, db_url: str, csv: Path, *, assignment: str | None = None) -> None:
    """nbgrader's own CSV export, written to a temporary file first so a failure leaves no half file."""
    csv = Path(csv)
    csv.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".csv", dir=csv.parent)
    os.close(fd)
    try:
        extra = [f"--ExportPlugin.assignment=['{assignment}']"] if assignment else []
        proc = nbgrader(root, db_url, "export", f"--to={tmp}", *extra, quiet=True)
        if proc.returncode:
            raise GradingError("nbgrader export failed (output above)")
        os.replace(tmp, csv)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def grade(submissions: Path | None, assignment: str, *, root: Path = COURSE_ROOT, csv: Path | None = None,
          db_url: str | None = None, jobs: int | None = None, students: list[str] | None = None,
          timeout: float | None = None) -> Path:
    """Autograde an assignment with nbgrader and export the gradebook to CSV.

    With `submissions` (a folder or zip), they are imported first and those
    students are graded; without, every student already imported for the
    assignment (or only `students`).
    """
    _check_assignment(root, assignment)
    db_url = db_url or default_db_url(root)
    timeout = timeout or submission_timeout()
    if submissions is not None:
        scan = import_submissions(Path(submissions), assignment, root=root, db_url=db_url)
        for warning in scan.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        to_grade = sorted(scan.found)
        if not to_grade:
            raise GradingError(f"no submissions for {assignment} in {submissions}: expected "
                               f"{submissions}/<student>/{notebook_names(root, assignment)[0]}.ipynb")
    else:
        to_grade = imported_students(root, assignment)
        if not to_grade:
            raise GradingError(f"nothing to grade: no submissions of {assignment} in {root / GRADING / 'submitted'}; "
                               f"run `python3 kit.py import SUBMISSIONS -a {assignment}` first")
    if students:
        unknown = sorted(set(students) - set(to_grade))
        if unknown:
            raise GradingError(f"no submission of {assignment} from {', '.join(unknown)}; "
                               f"imported: {', '.join(to_grade)}")
        to_grade = sorted(students)
    # The gradebook needs the source cells, including the hidden tests, of this assignment.
    generate_release(root, release_dir=root / GRADING / "release", db_url=db_url, only=[assignment])
    reasons: dict[str, str] = {}
    autograde(root, db_url, assignment, to_grade, jobs=jobs, timeout=timeout, reasons=reasons)
    csv = Path(csv or root / GRADING / f"grades-{assignment}.csv")
    export_csv(root, db_url, csv)
    print(f"graded {len(to_grade) - len(reasons)} of {len(to_grade)} submissions; grades in {csv}")
    if reasons:
        print("nbgrader could not grade: " + ", ".join(reasons) + " (0 points each; look at their notebooks):",
              file=sys.stderr)
        for student, reason in sorted(reasons.items()):
            print(f"  {student}: {reason}", file=sys.stderr)
    return csv


# --------------------------------------------------------------------------------------------
# Feedback

_TAG = re.compile(r"<[^>]+>")


def secret_test_lines(root: Path, assignment: str) -> set[str]:
    """Hidden-test lines of an assignment that appear nowhere else in its notebooks (and are not trivial)."""
    from helpers.grading_preprocessors import hidden_lines

    secret, public = set(), set()
    for path in (root / "solutions" / assignment).glob("*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        hidden = hidden_lines(cells)
        secret |= hidden
        for cell in cells:
            public |= {line.strip() for line in cell.source.split("\n")} - hidden
    # Short lines (`import torch`, `)`, `for _t in range(T):`) tell a student nothing.
    return {line for line in secret - public if len(line) >= 12}


def leaked_lines(page: str, secret: set[str]) -> list[str]:
    """The secret lines that an HTML page shows (as text, whatever its markup)."""
    from helpers.grading_preprocessors import quotes_hidden

    text = html.unescape(_TAG.sub("", page))
    return sorted({line.strip() for line in text.split("\n") if quotes_hidden(line, secret)}
                  | {line for line in secret if line in text})


def feedback(assignment: str, *, root: Path = COURSE_ROOT, db_url: str | None = None,
             students: list[str] | None = None) -> list[Path]:
    """nbgrader generate_feedback, with the hidden tests removed (nbgrader_config.py), then checked.

    Returns the HTML files. A page that still shows a hidden-test line is
    deleted and reported: it never reaches a student.
    """
    _check_assignment(root, assignment)
    db_url = db_url or default_db_url(root)
    autograded = root / GRADING / "autograded"
    graded = sorted(p.name for p in autograded.iterdir() if any((p / assignment).glob("*.ipynb"))) \
        if autograded.is_dir() else []
    if not graded:
        raise GradingError(f"no autograded submissions of {assignment}: run `python3 kit.py grade -a {assignment}` "
                           "first")
    if students:
        unknown = sorted(set(students) - set(graded))
        if unknown:
            raise GradingError(f"no autograded {assignment} for {', '.join(unknown)}; autograded: {', '.join(graded)}")
    for student in students or [None]:
        args = ["generate_feedback", assignment, "--force"] + ([f"--student={student}"] if student else [])
        if nbgrader(root, db_url, *args, quiet=True).returncode:
            raise GradingError(f"nbgrader generate_feedback {assignment} failed (output above)")
    secret = secret_test_lines(root, assignment)
    pages, leaks = [], []
    for student in students or graded:
        for page in sorted((root / GRADING / "feedback" / student / assignment).glob("*.html")):
            if leaked_lines(page.read_text(encoding="utf-8"), secret):
                page.unlink()
                leaks.append(f"{student}/{page.name}")
            else:
                pages.append(page)
    if leaks:
        raise GradingError("feedback that shows hidden tests was deleted: " + ", ".join(leaks)
                           + "; check HideHiddenTests in nbgrader_config.py")
    return pages


# --------------------------------------------------------------------------------------------
# One notebook

def _guess_assignment(root: Path, notebook: Path) -> str:
    matches = [a for a in assignments(root) if _which_notebook(notebook.stem, notebook_names(root, a))]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(assignments(root))
    if matches:
        raise GradingError(f"{notebook.name} could belong to {', '.join(matches)}: give -a ASSIGNMENT")
    raise GradingError(f"cannot tell the assignment of {notebook.name} from its name: give -a ASSIGNMENT "
                       f"(one of {known})")


def grade_one(notebook: Path, assignment: str | None = None, *, root: Path = COURSE_ROOT,
              timeout: float | None = None) -> dict:
    """Autograde one notebook with nbgrader in a scratch course and gradebook; its per-cell scores.

    Nothing of the course's own gradebook or grading/ folder is touched.
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise GradingError(f"{notebook} does not exist: give the path of a submitted .ipynb file")
    assignment = assignment or _guess_assignment(root, notebook)
    _check_assignment(root, assignment)
    names = notebook_names(root, assignment)
    name = _which_notebook(notebook.stem, names) or (names[0] if len(names) == 1 else None)
    if name is None:
        raise GradingError(f"{notebook.name}: which notebook of {assignment} is it? Its name must end with "
                           f"{' or '.join(n + '.ipynb' for n in names)}")
    order = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
             for c in nbformat.read(root / "solutions" / assignment / f"{name}.ipynb", as_version=4).cells]
    with tempfile.TemporaryDirectory(prefix="rnn-kit-grade-one-") as scratch:
        course = Path(scratch)
        shutil.copy2(root / "nbgrader_config.py", course)
        shutil.copytree(root / "solutions" / assignment, course / "solutions" / assignment)
        db_url = f"sqlite:///{course / GRADING / 'gradebook.db'}"
        generate_release(course, release_dir=course / GRADING / "release", db_url=db_url, only=[assignment])
        target = course / GRADING / "submitted" / GRADE_ONE_STUDENT / assignment / f"{name}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copyfile(notebook, target)
        reasons: dict[str, str] = {}
        autograde(course, db_url, assignment, [GRADE_ONE_STUDENT], jobs=1, timeout=timeout, reasons=reasons)
        with _gradebook(db_url) as gb:
            submitted = gb.find_submission_notebook(name, assignment, GRADE_ONE_STUDENT)
            grades = {g.name: g for g in submitted.grades}
            cells = {}
            for cell in sorted(grades, key=lambda c: order.index(c) if c in order else len(order)):
                g = grades[cell]
                cells[cell] = {"score": None if g.needs_manual_grade and g.manual_score is None else g.score,
                               "max_score": g.max_score, "autograded": g.cell.cell_type == "code",
                               "needs_manual_grade": bool(g.needs_manual_grade)}
            report = {"file": str(notebook), "assignment": assignment, "notebook": name,
                      "graded": GRADE_ONE_STUDENT not in reasons, "error": reasons.get(GRADE_ONE_STUDENT),
                      "score": submitted.score, "max_score": submitted.max_score,
                      "needs_manual_grade": bool(submitted.needs_manual_grade), "cells": cells}
    return report


# --------------------------------------------------------------------------------------------
# Command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnn-kit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", type=Path, default=COURSE_ROOT,
                        help="course folder with nbgrader_config.py and solutions/ (default: this checkout)")
    with_db = argparse.ArgumentParser(add_help=False, parents=[common])
    with_db.add_argument("--db-url", help="gradebook URL (default sqlite in grading/, or RNN_KIT_DB_URL; "
                                          "e.g. postgresql+psycopg2://user@host:port/db)")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="regenerate notebooks/ and the visible tests' expected values")
    rel.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    rel.add_argument("--no-expected", action="store_true", help="do not re-run the solutions to record expected values")
    imp = sub.add_parser("import", parents=[with_db], description=__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         help="copy a class's submissions (folder or LMS zip) into grading/submitted/")
    imp.add_argument("submissions", type=Path, help="folder or .zip of submissions")
    imp.add_argument("-a", "--assignment", required=True, help="assignment id, e.g. a1_rnn_forward")
    gr = sub.add_parser("grade", parents=[with_db], help="autograde a class and export grades to CSV")
    gr.add_argument("submissions", type=Path, nargs="?",
                    help="folder or .zip to import first (default: grade what `import` put in grading/submitted/)")
    gr.add_argument("-a", "--assignment", required=True, help="assignment id, e.g. a1_rnn_forward")
    gr.add_argument("--student", action="append", help="grade only this student (repeatable)")
    gr.add_argument("--csv", type=Path, help="where to write the grades (default grading/grades-ASSIGNMENT.csv)")
    gr.add_argument("--jobs", type=int, help="students graded at once (default: number of CPUs)")
    gr.add_argument("--timeout", type=float,
                    help=f"seconds per submission before it is stopped (default {SUBMISSION_TIMEOUT_ENV} "
                         f"or {DEFAULT_SUBMISSION_TIMEOUT})")
    ex = sub.add_parser("export", parents=[with_db], help="export the gradebook to CSV (nbgrader export)")
    ex.add_argument("--csv", type=Path, help="where to write the grades (default grading/grades.csv)")
    ex.add_argument("-a", "--assignment", help="only this assignment (default: all)")
    fb = sub.add_parser("feedback", parents=[with_db], help="HTML feedback for the students, without the hidden tests")
    fb.add_argument("-a", "--assignment", required=True, help="assignment id, e.g. a1_rnn_forward")
    fb.add_argument("--student", action="append", help="only this student (repeatable)")
    one = sub.add_parser("grade-one", parents=[common],
                         help="grade one notebook in a scratch gradebook; print per-cell scores as JSON")
    one.add_argument("notebook", type=Path, help="the .ipynb to grade")
    one.add_argument("-a", "--assignment", help="assignment id (default: from the notebook's file name)")
    one.add_argument("--timeout", type=float, help="seconds before the grading is stopped")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            out = generate_release(only=args.assignments or None)
            print(f"released into {out}")
            if not args.no_expected:
                print(f"expected values recorded in {record_expected(only=args.assignments or None)}")
            return 0
        course = args.course.resolve()
        if not (course / "nbgrader_config.py").is_file():
            raise GradingError(f"{course} is not a course folder (no nbgrader_config.py)")
        if args.command == "import":
            scan = import_submissions(args.submissions, args.assignment, root=course, db_url=args.db_url)
            for warning in scan.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(f"imported {args.assignment} of {len(scan.found)} students into "
                  f"{course / GRADING / 'submitted'}: {', '.join(sorted(scan.found))}")
        elif args.command == "grade":
            grade(args.submissions, args.assignment, root=course, csv=args.csv, db_url=args.db_url,
                  jobs=args.jobs, students=args.student, timeout=args.timeout)
        elif args.command == "export":
            csv = args.csv or course / GRADING / "grades.csv"
            export_csv(course, args.db_url or default_db_url(course), csv, assignment=args.assignment)
            print(f"grades in {csv}")
        elif args.command == "feedback":
            pages = feedback(args.assignment, root=course, db_url=args.db_url, students=args.student)
            print(f"feedback in {course / GRADING / 'feedback'}: {len(pages)} notebooks")
        else:
            report = grade_one(args.notebook, args.assignment, root=course, timeout=args.timeout)
            print(json.dumps(report, indent=2))
            if not report["graded"]:
                print(f"rnn-kit: {args.notebook} could not be graded: {report['error']}", file=sys.stderr)
                return 1
    except GradingError as err:
        print(f"rnn-kit: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
