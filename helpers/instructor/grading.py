"""Grading: nbgrader autograde of a class (in parallel, each kernel in the sandbox), export, one notebook."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from helpers import COURSE_ROOT
from helpers.instructor.course import (GRADING, GradingError, check_assignment, default_db_url, environment,
                                       gradebook, kill_tree, nbgrader, notebook_names)
from helpers.instructor.release import generate_release
from helpers.instructor.sandbox import check_available
from helpers.instructor.submissions import guess_assignment, import_submissions, imported_students, which_notebook

#: Seconds one submission may take to autograde as a whole (every cell also has its own limit,
#: RNN_KIT_CELL_TIMEOUT): a kernel that ignores interrupts would otherwise cost a cell timeout per cell.
SUBMISSION_TIMEOUT_ENV = "RNN_KIT_SUBMISSION_TIMEOUT"
DEFAULT_SUBMISSION_TIMEOUT = 900
#: The student id under which `grade-one` grades its notebook, in a scratch gradebook.
GRADE_ONE_STUDENT = "student"
#: What nbgrader is told when the instructor grades with --no-sandbox.
NO_SANDBOX = "--SandboxKernelManager.enabled=False"
#: One line per grading run, beside the grades: when, what, and whether it ran in the sandbox.
RUNS_LOG = "grading-runs.log"
NO_SANDBOX_WARNING = ("WARNING: grading WITHOUT the sandbox (--no-sandbox): every submission runs with your "
                      "rights and can read the solutions and the gradebook, change grades, and reach the "
                      "network. Only for code you trust. This run is recorded in {log}.")


def prepare_sandbox(root: Path, sandbox: bool) -> list[str]:
    """nbgrader's extra arguments for grading with or without the sandbox; refuses when it is missing."""
    if sandbox:
        check_available()
        return []
    print(NO_SANDBOX_WARNING.format(log=root / GRADING / RUNS_LOG), file=sys.stderr)
    return [NO_SANDBOX]


def record_run(root: Path, assignment: str, students: list[str], sandbox: bool) -> None:
    """Append this grading run to grading/grading-runs.log."""
    log = root / GRADING / RUNS_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    how = "sandbox=bubblewrap" if sandbox else "sandbox=NONE (--no-sandbox: graded with the grader's rights)"
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"{when} {assignment} {how} students={','.join(students)}\n")


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

    with gradebook(db_url) as gb:
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
    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url}"]
    proc = subprocess.Popen(cmd, cwd=root, env=environment(threads), text=True, stdout=subprocess.PIPE,
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
    while overdue is None:
        try:
            proc.wait(timeout=0.5)      # returns as soon as nbgrader ends, not at the next half second
            break
        except subprocess.TimeoutExpired:
            pass
        with lock:
            if state["current"] and time.monotonic() - state["since"] > timeout:
                overdue = state["current"]
    if overdue:
        kill_tree(proc.pid)
    proc.wait()
    reader.join(30)
    return logs, overdue, "".join(state["preamble"])


def autograde(root: Path, db_url: str, assignment: str, students: list[str], *, jobs: int | None = None,
              timeout: float | None = None, reasons: dict[str, str] | None = None,
              sandbox: bool = True) -> list[str]:
    """nbgrader autograde of `students`, `jobs` processes at a time; returns the failures.

    Each process grades a share of the students (nbgrader's start-up costs a few
    seconds per process); a submission that runs past `timeout` seconds is
    stopped with its kernel, and the rest of its share goes on in a new process.
    A submission that fails has no autograded copy and scores 0 in every cell;
    `reasons` receives why.
    """
    timeout = timeout or submission_timeout()
    extra = prepare_sandbox(root, sandbox)
    record_run(root, assignment, students, sandbox)
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
            args = ["autograde", assignment, "--force", *extra]
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
          timeout: float | None = None, sandbox: bool = True) -> Path:
    """Autograde an assignment with nbgrader and export the gradebook to CSV.

    With `submissions` (a folder or zip), they are imported first and those
    students are graded; without, every student already imported for the
    assignment (or only `students`). Every kernel runs in the sandbox unless
    `sandbox` is False; a machine without it is refused before anything changes.
    """
    check_assignment(root, assignment)
    if sandbox:
        check_available()
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
    autograde(root, db_url, assignment, to_grade, jobs=jobs, timeout=timeout, reasons=reasons, sandbox=sandbox)
    csv = Path(csv or root / GRADING / f"grades-{assignment}.csv")
    export_csv(root, db_url, csv)
    print(f"graded {len(to_grade) - len(reasons)} of {len(to_grade)} submissions; grades in {csv}")
    if reasons:
        print("nbgrader could not grade: " + ", ".join(reasons) + " (0 points each; look at their notebooks):",
              file=sys.stderr)
        for student, reason in sorted(reasons.items()):
            print(f"  {student}: {reason}", file=sys.stderr)
    return csv


def grade_one(notebook: Path, assignment: str | None = None, *, root: Path = COURSE_ROOT,
              timeout: float | None = None, sandbox: bool = True) -> dict:
    """Autograde one notebook with nbgrader in a scratch course and gradebook; its per-cell scores.

    Nothing of the course's own gradebook or grading/ folder is touched.
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise GradingError(f"{notebook} does not exist: give the path of a submitted .ipynb file")
    assignment = assignment or guess_assignment(root, notebook)
    check_assignment(root, assignment)
    names = notebook_names(root, assignment)
    name = which_notebook(notebook.stem, names) or (names[0] if len(names) == 1 else None)
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
        autograde(course, db_url, assignment, [GRADE_ONE_STUDENT], jobs=1, timeout=timeout, reasons=reasons,
                  sandbox=sandbox)
        with gradebook(db_url) as gb:
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

