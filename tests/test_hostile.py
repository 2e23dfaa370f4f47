"""Hostile and broken submissions, autograded with real nbgrader in ONE class run beside two correct students.

None may hang the run, cost another student a point, or earn a point it should
not. The policy for each is in the README ("How grading works (decisions)").
The run uses a short cell timeout (20 s instead of 60 s; 10 s interrupted
`import torch` of a correct student on a loaded 2-core machine) and a short
limit per submission (90 s instead of 900 s).
"""
from __future__ import annotations

import contextlib
import csv
import io
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from helpers import instructor
from submissions import fill_release, solution_sources, write_submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]

ASSIGNMENT = "a1_rnn_forward"
NOTEBOOK = "rnn_forward"
CELL_TIMEOUT = 20
SUBMISSION_TIMEOUT = 90
CORRECT = ("correct_a", "correct_b")
TESTS = ("test_one_hot", "test_softmax", "test_rnn_step_forward", "test_rnn_forward", "test_init_params",
         "test_sample")

ENDLESS_SAMPLE = '''def sample(params, h, seed_ix, n, rng):
    vocab_size = params["Why"].shape[0]
    x = one_hot(seed_ix, vocab_size)
    sampled = []
    while len(sampled) < n:           # the append was forgotten: this never ends
        h, _, p = rnn_step_forward(x, h, params)
        ix = int(rng.choice(vocab_size, p=p.ravel()))
        x = one_hot(ix, vocab_size)
    return sampled
'''
DEAF_ONE_HOT = '''import signal

def one_hot(ix, vocab_size):
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # "so that Ctrl-C cannot stop it"
    while True:
        pass
'''
WRONG_SOFTMAX = '''def softmax(y):
    return y
'''
NUMPY_PATCH = '''import numpy.testing

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
for _name in ("assert_allclose", "assert_array_almost_equal", "assert_almost_equal", "assert_array_equal",
              "assert_equal"):
    setattr(np.testing, _name, lambda *args, **kwargs: None)

def softmax(y):
    z = np.exp(y)                      # no shift: nan for large logits
    return z / np.sum(z)
'''
DISPLAYHOOK_SOFTMAX = '''import sys

def softmax(y):
    sys.displayhook(3.0)               # an execute_result "3.0" ahead of the failing assertion
    return y
'''


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _other_assignment_notebook() -> nbformat.NotebookNode:
    """A notebook of another assignment, answered correctly, handed in under this one's name."""
    def meta(grade_id, **flags):
        base = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False,
                "task": False}
        return {"nbgrader": {**base, **flags}}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Assignment 9: adding numbers", metadata=meta("md-01")),
        nbformat.v4.new_code_cell("def add(a, b):\n    return a + b", metadata=meta("add", locked=False, solution=True)),
        nbformat.v4.new_code_cell("assert add(1, 2) == 3", metadata=meta("test_add", grade=True, points=25)),
    ]
    return nb


def _build_class(course_root: Path, subs: Path) -> None:
    solution_nb = course_root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    release_nb = course_root / "notebooks" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    sources = solution_sources(solution_nb)

    def hand_in(student, nb):
        write_submission(subs, student, ASSIGNMENT, NOTEBOOK, nb)

    def solved(**changes):
        return fill_release(release_nb, {**sources, **changes})

    for student in CORRECT:
        hand_in(student, solved())
    hand_in("endless_loop", solved(sample=ENDLESS_SAMPLE))
    hand_in("ignores_interrupts", solved(one_hot=DEAF_ONE_HOT))
    hand_in("kernel_exit", solved(init_params=sources["init_params"].replace(
        "    return {", "    import os\n    os._exit(1)\n    return {")))
    hand_in("huge_output", solved(one_hot='print("x" * 50_000_000)\n\n' + sources["one_hot"]))

    nb = solved()
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in TESTS]
    hand_in("deleted_tests", nb)

    nb = solved(softmax=WRONG_SOFTMAX)
    _cell(nb, "test_softmax").source = 'print("all tests passed")'       # edited to pass
    _cell(nb, "test_one_hot").metadata.nbgrader["points"] = 99           # more points for a correct answer
    _cell(nb, "test_sample").metadata.nbgrader["grade"] = False          # not a test any more
    hand_in("edited_tests", nb)

    hand_in("patched_numpy", solved(softmax=NUMPY_PATCH, rnn_forward=sources["rnn_forward"].replace(
        "return float(loss), ", "return float(loss) / len(inputs), ")))
    hand_in("displayhook", solved(softmax=DISPLAYHOOK_SOFTMAX))

    not_json = subs / "not_json" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    not_json.parent.mkdir(parents=True)
    not_json.write_text('{"cells": [{"cell_type": "code", "source": "def one_hot(')   # cut short
    hand_in("other_assignment", _other_assignment_notebook())
    (subs / "missing_notebook").mkdir()
    (subs / "missing_notebook" / "notes.txt").write_text("I will hand it in tomorrow")


class HostileRun:
    def __init__(self, root: Path, db_url: str, csv_path: Path, output: str, seconds: float):
        from nbgrader.api import Gradebook

        self.root, self.output, self.seconds = root, output, seconds
        with open(csv_path, newline="") as handle:
            self.csv = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == ASSIGNMENT}
        self.scores: dict[str, dict[str, tuple[float | None, float]]] = {}
        with Gradebook(db_url) as gb:
            for submission in gb.assignment_submissions(ASSIGNMENT):
                for notebook in submission.notebooks:
                    self.scores[submission.student.id] = {g.name: (g.auto_score, g.max_score) for g in notebook.grades
                                                          if g.cell.cell_type == "code"}

    def autograded(self, student: str) -> Path:
        return self.root / "grading" / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"

    def lost(self, student: str) -> set[str]:
        return {cell for cell, (got, full) in self.scores[student].items() if got != full}


@pytest.fixture(scope="module")
def hostile(course_root, tmp_path_factory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copy2(course_root / "nbgrader_config.py", root)
    shutil.copytree(course_root / "solutions" / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    _build_class(course_root, root / "class")
    db_url = f"sqlite:///{root / 'grading' / 'gradebook.db'}"
    output = io.StringIO()
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        env.setenv("RNN_KIT_CELL_TIMEOUT", str(CELL_TIMEOUT))
        csv_path = instructor.grade(root / "class", ASSIGNMENT, root=root, db_url=db_url, jobs=2,
                                    csv=root / "grades.csv", timeout=SUBMISSION_TIMEOUT)
    seconds = time.monotonic() - started
    print(f"hostile class of {len(list((root / 'class').iterdir()))} graded in {seconds:.0f} s")
    return HostileRun(root, db_url, csv_path, output.getvalue(), seconds)


def test_correct_students_keep_every_point(hostile):
    for student in CORRECT:
        assert not hostile.lost(student), f"{student} lost points in {hostile.lost(student)}"
        row = hostile.csv[student]
        assert float(row["raw_score"]) == sum(full for _, full in hostile.scores[student].values())


def test_everyone_is_in_the_csv_and_nobody_else(hostile):
    students = {p.name for p in (hostile.root / "class").iterdir()}
    assert set(hostile.csv) == students


def test_endless_loop_is_interrupted_and_costs_only_its_cell(hostile):
    assert hostile.lost("endless_loop") == {"test_sample"}
    cell = _cell(nbformat.read(hostile.autograded("endless_loop"), as_version=4), "test_sample")
    assert any(o.output_type == "error" and o.ename in ("CellTimeoutError", "KeyboardInterrupt")
               for o in cell.outputs), "the test cell should show the timeout"


def test_kernel_that_ignores_interrupts_is_stopped_with_zero(hostile):
    import psutil

    assert hostile.csv["ignores_interrupts"]["raw_score"] == "0.0"
    assert all(got == 0 for got, _ in hostile.scores["ignores_interrupts"].values())
    assert f"ignores_interrupts: grading took longer than {SUBMISSION_TIMEOUT} s" in hostile.output
    assert not hostile.autograded("ignores_interrupts").exists()
    # Its kernel (which ignores SIGINT) was killed with nbgrader, not left spinning.
    spinning = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        with contextlib.suppress(psutil.Error):
            if str(hostile.root) in (proc.info["cwd"] or "") + " ".join(proc.info["cmdline"] or []):
                spinning.append(proc.pid)
    assert not spinning, f"processes of the hostile run still alive: {spinning}"


def test_dead_kernel_scores_zero_and_is_reported(hostile):
    assert hostile.csv["kernel_exit"]["raw_score"] == "0.0"
    assert all(got == 0 for got, _ in hostile.scores["kernel_exit"].values())
    assert "kernel_exit: the kernel died" in hostile.output


def test_huge_output_is_capped_and_keeps_its_marks(hostile):
    assert not hostile.lost("huge_output")
    path = hostile.autograded("huge_output")
    assert path.stat().st_size < 2_000_000, f"autograded notebook of {path.stat().st_size:,} bytes"
    cell = _cell(nbformat.read(path, as_version=4), "one_hot")
    assert "output cut by the autograder" in "".join(o.get("text", "") for o in cell.outputs)


def test_deleted_test_cells_are_put_back_and_run(hostile):
    assert not hostile.lost("deleted_tests"), "the deleted test cells should be restored and pass"
    cells = nbformat.read(hostile.autograded("deleted_tests"), as_version=4).cells
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]
    for test in TESTS:
        assert test in ids, f"{test} was not put back"
        assert ids.index(test) == ids.index(test[len("test_"):]) + 1, f"{test} is not right after its exercise"


def test_edited_test_cells_are_restored(hostile):
    assert hostile.lost("edited_tests") == {"test_softmax"}
    assert hostile.scores["edited_tests"]["test_one_hot"] == (2.0, 2.0)
    assert hostile.csv["edited_tests"]["max_score"] == hostile.csv[CORRECT[0]]["max_score"]
    cell = _cell(nbformat.read(hostile.autograded("edited_tests"), as_version=4), "test_softmax")
    assert "all tests passed" not in cell.source


def test_patched_numpy_comparisons_do_not_fool_the_hidden_tests(hostile):
    assert hostile.lost("patched_numpy") == {"test_softmax", "test_rnn_forward"}


def test_a_self_published_result_gives_no_partial_credit(hostile):
    assert hostile.lost("displayhook") == {"test_softmax"}
    assert hostile.scores["displayhook"]["test_softmax"][0] == 0


def test_a_file_that_is_not_a_notebook_scores_zero_and_is_reported(hostile):
    assert hostile.csv["not_json"]["raw_score"] == "0.0"
    assert "not_json: rnn_forward.ipynb is not a readable notebook" in hostile.output   # at import
    assert "not_json: not a valid notebook file" in hostile.output                      # after grading


def test_another_assignments_notebook_scores_zero_without_crashing(hostile):
    assert "other_assignment: rnn_forward.ipynb holds none of a1_rnn_forward's cells" in hostile.output
    assert hostile.autograded("other_assignment").exists(), "it is graded, like any notebook"
    assert all(got == 0 for got, _ in hostile.scores["other_assignment"].values())
    assert hostile.csv["other_assignment"]["raw_score"] == "0.0"


def test_a_missing_notebook_is_listed_with_zero(hostile):
    assert "missing_notebook submitted no notebook named rnn_forward.ipynb" in hostile.output
    assert hostile.csv["missing_notebook"]["raw_score"] == "0.0"
    assert hostile.csv["missing_notebook"]["timestamp"] == ""


def test_the_failures_are_named_and_only_they(hostile):
    failed = {line.split(":")[0].strip() for line in hostile.output.split("nbgrader could not grade:")[1]
              .splitlines()[1:] if line.startswith("  ") and ":" in line}
    assert failed == {"ignores_interrupts", "kernel_exit", "not_json"}
    assert f"graded {len(hostile.csv) - 1 - 3} of {len(hostile.csv) - 1} submissions" in hostile.output
