"""The instructor's workflow, end to end, through the documented commands (`rnn-kit ...`,
which `python3 kit.py ...` runs): import a class from a flat folder and from an LMS zip,
grade, export, feedback without the hidden tests, and grade-one's JSON.

One course folder is shared by the tests below, in order; it is graded once.
"""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from catalogue import MUTATIONS
from helpers import instructor
from submissions import autograded_points, fill_release, solution_sources

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("workflow")]

A1 = "a1_rnn_forward"
REGION = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$(.*?)^\s*### END HIDDEN TESTS\s*$", re.MULTILINE | re.DOTALL)
# bob's bug passes the visible tests and fails a hidden one, with this message.
BOB_BUG = "sample_h_not_carried"
BOB_MESSAGE = "the hidden state must start from h and be carried"


def rnn_kit(*args: str, course: Path) -> subprocess.CompletedProcess:
    """The command line as an instructor runs it (PATH as kit.py sets it)."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([sys.executable, "-m", "helpers.instructor", *args, "--course", str(course)],
                          capture_output=True, text=True, env=env)


def _notebook(course_root: Path, change: str | None) -> str:
    """a1 as a student hands it in: solved, solved with a bug of the catalogue, or untouched ("untouched")."""
    release = course_root / "notebooks" / A1 / "rnn_forward.ipynb"
    sources = solution_sources(course_root / "solutions" / A1 / "rnn_forward.ipynb")
    if change == "untouched":
        return nbformat.writes(fill_release(release, None))
    if change:
        sources = next(m for m in MUTATIONS[A1] if m.student == change).apply(sources)
    return nbformat.writes(fill_release(release, sources))


def _new_course(course_root: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy2(course_root / "nbgrader_config.py", folder)
    shutil.copytree(course_root / "solutions" / A1, folder / "solutions" / A1)
    return folder


@pytest.fixture(scope="module")
def course(course_root, tmp_path_factory) -> Path:
    return _new_course(course_root, tmp_path_factory.mktemp("workflow") / "course")


@pytest.fixture(scope="module")
def downloads(course_root, tmp_path_factory) -> dict[str, Path]:
    """A flat folder (Canvas-style names) and a Moodle zip, as an LMS gives them."""
    where = tmp_path_factory.mktemp("downloads")
    flat = where / "canvas"
    flat.mkdir()
    (flat / "alice_rnn_forward.ipynb").write_text(_notebook(course_root, None))
    (flat / "bob_12345_67890_rnn_forward-1.ipynb").write_text(_notebook(course_root, BOB_BUG))
    (flat / "grading_notes.txt").write_text("not a notebook")
    archive = where / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Carol Smith_1001_assignsubmission_file_/rnn_forward (1).ipynb", _notebook(course_root, None))
        zf.writestr("Dan Brown_1002_assignsubmission_file_rnn_forward.ipynb", _notebook(course_root, "untouched"))
        zf.writestr("Dan Brown_1002_assignsubmission_onlinetext_/onlinetext.html", "<p>see my notebook</p>")
    return {"flat": flat, "zip": archive}


def _submitted(course: Path) -> dict[str, list[str]]:
    folder = course / "grading" / "submitted"
    return {p.name: sorted(f.name for f in (p / A1).glob("*.ipynb")) for p in sorted(folder.iterdir())} \
        if folder.is_dir() else {}


@pytest.fixture(scope="module")
def imported(course, downloads) -> dict:
    """`rnn-kit import` of the flat folder, then of the zip, into the shared course (once, in this order)."""
    flat = rnn_kit("import", str(downloads["flat"]), "-a", A1, course=course)
    after_flat = _submitted(course)
    archive = rnn_kit("import", str(downloads["zip"]), "-a", A1, course=course)
    return {"flat": (flat, after_flat), "zip": (archive, _submitted(course))}


def test_import_a_flat_folder(imported):
    proc, submitted = imported["flat"]
    assert proc.returncode == 0, proc.stderr
    assert "ignored grading_notes.txt" in proc.stderr
    assert submitted == {"alice": ["rnn_forward.ipynb"], "bob": ["rnn_forward.ipynb"]}


def test_import_an_lms_zip(imported):
    proc, submitted = imported["zip"]
    assert proc.returncode == 0, proc.stderr
    assert submitted == {"alice": ["rnn_forward.ipynb"], "bob": ["rnn_forward.ipynb"],
                         "carol-smith": ["rnn_forward.ipynb"], "dan-brown": ["rnn_forward.ipynb"]}


def test_ambiguous_names_are_refused_and_nothing_is_imported(course_root, tmp_path):
    fresh = _new_course(course_root, tmp_path / "course")
    flat = tmp_path / "flat"
    flat.mkdir()
    solved = _notebook(course_root, None)
    for name in ("rnn_forward.ipynb", "erin_rnn_forward.ipynb", "erin_rnn_forward-1.ipynb", "frank.ipynb",
                 "gina_rnn_forward.ipynb"):
        (flat / name).write_text(solved)
    proc = rnn_kit("import", str(flat), "-a", A1, course=fresh)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    message = proc.stderr
    assert "nothing was imported" in message
    assert "rnn_forward.ipynb: starts with the notebook's name, so no student id" in message
    assert "erin_rnn_forward.ipynb and erin_rnn_forward-1.ipynb are both erin's rnn_forward.ipynb" in message
    assert "frank.ipynb: not <student>_<anything>.ipynb" in message
    assert "gina" not in message, "a clear file is not a problem"
    assert _submitted(fresh) == {} and not (fresh / "grading" / "gradebook.db").exists()


def test_bad_zip_files_are_refused(course_root, tmp_path):
    fresh = _new_course(course_root, tmp_path / "course")
    not_zip = tmp_path / "download.zip"
    not_zip.write_text("this is an HTML error page, not a zip")
    proc = rnn_kit("import", str(not_zip), "-a", A1, course=fresh)
    assert proc.returncode == 1 and "is not a readable zip file" in proc.stderr
    unsafe = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(unsafe, "w") as zf:
        zf.writestr("../../evil_rnn_forward.ipynb", _notebook(course_root, None))
    proc = rnn_kit("import", str(unsafe), "-a", A1, course=fresh)
    assert proc.returncode == 1 and "unsafe path" in proc.stderr
    assert _submitted(fresh) == {} and not (tmp_path / "evil_rnn_forward.ipynb").exists()


@pytest.fixture(scope="module")
def graded(course, imported):
    """`rnn-kit grade -a A1`: grades everything imported, then exports the CSV."""
    assert len(_submitted(course)) == 4, f"the imports failed: {imported}"
    proc = rnn_kit("grade", "-a", A1, "--jobs", "2", course=course)
    assert proc.returncode == 0, proc.stderr
    assert "graded 4 of 4 submissions" in proc.stdout
    return course


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == A1}


def test_grade_everything_imported(graded, course_root):
    rows = _csv(graded / "grading" / f"grades-{A1}.csv")
    full = autograded_points(course_root / "solutions" / A1 / "rnn_forward.ipynb")  # answers wait for a human
    assert {s: float(r["raw_score"]) for s, r in rows.items()} == {
        "alice": full, "bob": full - 3, "carol-smith": full, "dan-brown": 0.0}


def test_export_the_gradebook(graded):
    out = graded / "export" / "grades.csv"
    proc = rnn_kit("export", "--csv", str(out), "-a", A1, course=graded)
    assert proc.returncode == 0, proc.stderr
    assert _csv(out) == _csv(graded / "grading" / f"grades-{A1}.csv")
    assert sorted(p.name for p in out.parent.iterdir()) == ["grades.csv"], "no temporary file left behind"


def _page_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_feedback_shows_failures_but_no_hidden_test(graded, course_root):
    proc = rnn_kit("feedback", "-a", A1, course=graded)
    assert proc.returncode == 0, proc.stderr
    pages = {p.parts[-3]: p for p in (graded / "grading" / "feedback").glob(f"*/{A1}/rnn_forward.html")}
    assert sorted(pages) == ["alice", "bob", "carol-smith", "dan-brown"]
    secret = instructor.secret_lines(course_root, A1, ("HIDDEN TESTS",))
    assert len(secret) > 50, "the hidden tests should have many distinctive lines"
    for student, page in pages.items():
        text = _page_text(page)
        shown = sorted(line for line in secret if line in text)
        assert not shown, f"{student}'s feedback shows hidden-test lines: {shown[:3]}"
        assert "BEGIN HIDDEN TESTS" not in text and "(hidden tests: not shown)" in text
    bob = _page_text(pages["bob"])
    assert f"AssertionError: {BOB_MESSAGE}" in bob, "the student must still see why the hidden test failed"
    assert "NotImplementedError" in _page_text(pages["dan-brown"])


def test_without_the_kit_nbgrader_would_show_them(graded, course_root):
    """The control: nbgrader's own feedback of the same notebook quotes the hidden tests (issue 917)."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    out = graded / "plain-feedback"
    proc = subprocess.run(["nbgrader", "generate_feedback", A1, "--student=bob", "--force",
                           f"--CourseDirectory.root={graded}", f"--CourseDirectory.feedback_directory={out}",
                           f"--CourseDirectory.db_url=sqlite:///{graded / 'grading' / 'gradebook.db'}",
                           "--GenerateFeedback.preprocessors=['nbgrader.preprocessors.GetGrades']"],
                          cwd=graded, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    secret = instructor.secret_lines(course_root, A1, ("HIDDEN TESTS",))
    text = _page_text(out / "bob" / A1 / "rnn_forward.html")
    assert any(line in text for line in secret)


def test_grade_one_prints_per_cell_scores_as_json(graded, downloads):
    before = (graded / "grading" / "gradebook.db").read_bytes()
    notebook = downloads["flat"] / "bob_12345_67890_rnn_forward-1.ipynb"
    proc = rnn_kit("grade-one", str(notebook), course=graded)   # the assignment comes from the name
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["assignment"] == A1 and report["notebook"] == "rnn_forward" and report["graded"]
    cells = report["cells"]
    assert list(cells)[:6] == ["test_one_hot", "test_softmax", "test_rnn_step_forward", "test_rnn_forward",
                               "test_init_params", "test_sample"], "cells in notebook order"
    assert cells["test_sample"] == {"score": 0.0, "max_score": 3.0, "autograded": True, "needs_manual_grade": False}
    assert all(c["score"] == c["max_score"] for name, c in cells.items() if c["autograded"] and name != "test_sample")
    assert all(c["score"] is None and c["needs_manual_grade"] for c in cells.values() if not c["autograded"])
    assert report["score"] == sum(c["score"] or 0 for c in cells.values())
    assert (graded / "grading" / "gradebook.db").read_bytes() == before, "grade-one must not touch the class"


def test_grade_one_refuses_what_it_cannot_grade(course, tmp_path):
    missing = rnn_kit("grade-one", str(tmp_path / "nothing.ipynb"), course=course)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    odd = tmp_path / "homework.ipynb"
    odd.write_text("{}")
    unknown = rnn_kit("grade-one", str(odd), course=course)
    assert unknown.returncode == 1 and "give -a ASSIGNMENT" in unknown.stderr and "Traceback" not in unknown.stderr
