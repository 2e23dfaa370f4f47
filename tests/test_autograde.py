"""Real nbgrader autograde of a whole class per assignment, in one run.

The class: the solution, the untouched release, and one student per realistic
bug of tests/catalogue.py. Every submission is built from the released
notebook, as a student would, and graded by `helpers.instructor.grade`
(nbgrader autograde per student, nbgrader's gradebook, nbgrader's CSV export).
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from catalogue import MUTATIONS
from helpers import instructor
from submissions import fill_release, solution_sources, write_submission

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(MUTATIONS)


def _graded_cells(gb, assignment: str) -> dict[tuple[str, str], float]:
    """(notebook, grade_id) -> max points, from the gradebook's copy of the source."""
    out = {}
    for nb in gb.find_assignment(assignment).notebooks:
        for cell in nb.grade_cells:
            out[(nb.name, cell.name)] = cell.max_score
    return out


class GradedClass:
    def __init__(self, root: Path, assignment: str, csv_path: Path, db_url: str, students: list[str]):
        from nbgrader.api import Gradebook

        self.root, self.assignment, self.csv_path, self.students = root, assignment, csv_path, students
        with Gradebook(db_url) as gb:
            self.cells = _graded_cells(gb, assignment)
            self.grades = {}
            for student in students:
                for (nb, cell) in self.cells:
                    grade = gb.find_grade(cell, nb, assignment, student)
                    self.grades[student, nb, cell] = (grade.auto_score, grade.manual_score,
                                                      grade.needs_manual_grade, grade.max_score)
            self.autograded_cells = {(nb, c) for (nb, c) in self.cells
                                     if gb.find_grade_cell(c, nb, assignment).cell_type == "code"}

    def auto(self, student: str) -> dict[str, tuple[float, float]]:
        """grade_id -> (auto score, max score) of the autograded (code) cells."""
        return {cell: (self.grades[student, nb, cell][0] or 0.0, self.grades[student, nb, cell][3])
                for (nb, cell) in sorted(self.autograded_cells)}


def _grade_class(course_root: Path, root: Path, assignment: str) -> GradedClass:
    shutil.copy2(course_root / "nbgrader_config.py", root)
    shutil.copytree(course_root / "solutions" / assignment, root / "solutions" / assignment)
    subs = root / "class"
    students = ["solution", "untouched"] + [m.student for m in MUTATIONS[assignment]]
    for solution_nb in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        release_nb = course_root / "notebooks" / assignment / solution_nb.name
        sources = solution_sources(solution_nb)
        write_submission(subs, "solution", assignment, solution_nb.stem, fill_release(release_nb, sources))
        write_submission(subs, "untouched", assignment, solution_nb.stem, fill_release(release_nb, None))
        for mutation in MUTATIONS[assignment]:
            if mutation.cell in sources:
                nb = fill_release(release_nb, mutation.apply(sources))
                write_submission(subs, mutation.student, assignment, solution_nb.stem, nb)
    db_url = f"sqlite:///{root / 'grading' / 'gradebook.db'}"
    csv_path = instructor.grade(subs, assignment, root=root, db_url=db_url, jobs=2,
                                csv=root / "grades.csv")
    return GradedClass(root, assignment, csv_path, db_url, students)


@pytest.fixture(scope="session")
def graded(course_root, tmp_path_factory):
    """graded(assignment): the class of that assignment, autograded once per test process."""
    done: dict[str, GradedClass] = {}

    def get(assignment: str) -> GradedClass:
        if assignment not in done:
            done[assignment] = _grade_class(course_root, tmp_path_factory.mktemp(assignment), assignment)
        return done[assignment]

    return get


def _each_assignment(func):
    """Run `func` per assignment, all of one assignment's tests on one xdist worker."""
    return pytest.mark.parametrize("assignment", [pytest.param(a, marks=pytest.mark.xdist_group(a))
                                                  for a in ASSIGNMENTS])(func)


@_each_assignment
def test_solution_gets_full_marks(graded, assignment):
    graded_class = graded(assignment)
    scores = graded_class.auto("solution")
    assert scores, "the assignment has no autograded cells"
    lost = {cell: s for cell, s in scores.items() if s[0] != s[1]}
    assert not lost, f"the solution lost points in {lost}"


@_each_assignment
def test_untouched_release_gets_zero(graded, assignment):
    graded_class = graded(assignment)
    scores = graded_class.auto("untouched")
    earned = {cell: s for cell, s in scores.items() if s[0] != 0}
    assert not earned, f"the untouched student version earned points in {earned}"
    # Its autograded copy exists: the run went through every cell without crashing.
    autograded = graded_class.root / "grading" / "autograded" / "untouched" / graded_class.assignment
    assert sorted(p.name for p in autograded.glob("*.ipynb"))


@_each_assignment
def test_manual_cells_wait_for_the_instructor(graded, assignment):
    graded_class = graded(assignment)
    manual = [(nb, c) for (nb, c) in graded_class.cells if (nb, c) not in graded_class.autograded_cells]
    assert manual, "every assignment ends with manually graded discussion questions"
    for nb, cell in manual:
        auto, _, needs_manual, _ = graded_class.grades["solution", nb, cell]
        assert needs_manual and auto is None, f"{cell}: an answered question must wait for manual grading"
        auto, _, needs_manual, _ = graded_class.grades["untouched", nb, cell]
        assert auto == 0 and not needs_manual, f"{cell}: an unanswered question scores 0 automatically"


@pytest.mark.parametrize("assignment,mutation", [
    pytest.param(a, m, id=f"{a}-{m.student}", marks=pytest.mark.xdist_group(a))
    for a in ASSIGNMENTS for m in MUTATIONS[a]])
def test_bug_costs_only_its_own_cells(graded, assignment, mutation):
    scores = graded(assignment).auto(mutation.student)
    for cell in mutation.loses:
        got, full = scores[cell]
        assert got < full, f"{mutation.student} ({mutation.why}) kept {got}/{full} in {cell}"
    kept_wrongly = {cell: s for cell, s in scores.items() if cell not in mutation.loses and s[0] != s[1]}
    assert not kept_wrongly, f"{mutation.student} ({mutation.why}) also lost points in {kept_wrongly}"


@_each_assignment
def test_grades_exported_to_csv(graded, assignment):
    graded_class = graded(assignment)
    with open(graded_class.csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_student = {row["student_id"]: row for row in rows if row["assignment"] == graded_class.assignment}
    assert set(by_student) == set(graded_class.students)
    full = sum(graded_class.auto("solution")[c][1] for c in graded_class.auto("solution"))
    assert float(by_student["solution"]["raw_score"]) == pytest.approx(full)
    assert float(by_student["untouched"]["raw_score"]) == 0
