"""Real nbgrader autograde of a whole class per assignment, in one run.

The class: the solution, the untouched release, one student per realistic bug,
the alternative correct solutions and the hard-coders of tests/catalogue.py.
Every submission is built from the released notebook, as a student would, and
graded by `helpers.instructor.grade` (nbgrader autograde per student, nbgrader's
gradebook, nbgrader's CSV export). `test_fidelity_figures` prints, per
assignment, the bugs killed and the false failures (`pytest -rP` shows them).
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from catalogue import ALTERNATIVES, HARD_CODERS, MUTATIONS
from helpers import instructor
from submissions import Mutation, Rewrite, fill_release, solution_sources, write_submission

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(MUTATIONS)


def _alternative_students(assignment: str) -> dict[str, Rewrite]:
    """The alternatives of an assignment, one submission per student id (entries of one student merged)."""
    merged: dict[str, list] = {}
    for rewrite in ALTERNATIVES.get(assignment, []):
        merged.setdefault(rewrite.student, []).extend(rewrite.cells)
    return {student: Rewrite(student, tuple(cells)) for student, cells in merged.items()}


def _class_of(assignment: str) -> dict[str, object]:
    """student id -> what the student did: "solution", None (untouched), a Mutation or a Rewrite."""
    students: dict[str, object] = {"solution": "solution", "untouched": None}
    for item in [*MUTATIONS[assignment], *_alternative_students(assignment).values(),
                 *HARD_CODERS.get(assignment, [])]:
        assert item.student not in students, f"{assignment}: two submissions named {item.student}"
        students[item.student] = item
    return students


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


def _sources_for(did, sources: dict[str, str]) -> dict[str, str] | None:
    """One notebook's solution cells as the student wrote them (every student hands in every notebook)."""
    if did is None:
        return None
    if did == "solution":
        return sources
    if isinstance(did, Mutation):
        return did.apply(sources) if did.cell in sources else sources
    return Rewrite(did.student, tuple((c, src) for c, src in did.cells if c in sources)).apply(sources)


def _grade_class(course_root: Path, root: Path, assignment: str) -> GradedClass:
    shutil.copy2(course_root / "nbgrader_config.py", root)
    shutil.copytree(course_root / "solutions" / assignment, root / "solutions" / assignment)
    subs = root / "class"
    students = _class_of(assignment)
    for solution_nb in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        release_nb = course_root / "notebooks" / assignment / solution_nb.name
        sources = solution_sources(solution_nb)
        for student, did in students.items():
            nb = fill_release(release_nb, _sources_for(did, sources))
            write_submission(subs, student, assignment, solution_nb.stem, nb)
    db_url = f"sqlite:///{root / 'grading' / 'gradebook.db'}"
    csv_path = instructor.grade(subs, assignment, root=root, db_url=db_url, jobs=2,
                                csv=root / "grades.csv")
    return GradedClass(root, assignment, csv_path, db_url, list(students))


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
    copied = list((graded_class.root / "grading" / "autograded").rglob("reference.py"))
    assert not copied, f"the hidden tests' reference module reached the graded folders: {copied}"


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


@pytest.mark.parametrize("assignment,student", [
    pytest.param(a, s, id=f"{a}-{s}", marks=pytest.mark.xdist_group(a))
    for a in ASSIGNMENTS for s in _alternative_students(a)])
def test_alternative_solution_keeps_full_marks(graded, assignment, student):
    lost = {cell: s for cell, s in graded(assignment).auto(student).items() if s[0] != s[1]}
    changed = dict(_alternative_students(assignment)[student].cells)
    assert not lost, f"{student}, a correct solution written differently ({sorted(changed)}), lost points in {lost}"


@pytest.mark.parametrize("assignment,cheat", [
    pytest.param(a, c, id=f"{a}-{c.student}", marks=pytest.mark.xdist_group(a))
    for a in ASSIGNMENTS for c in HARD_CODERS.get(a, [])])
def test_hard_coded_visible_answers_lose_points(graded, assignment, cheat):
    graded_class = graded(assignment)
    scores = graded_class.auto(cheat.student)
    kept = {cell: scores[cell] for cell in cheat.loses if scores[cell][0] == scores[cell][1]}
    assert not kept, f"{cheat.student} ({cheat.why}) kept the points of {kept}"
    # It does pass the visible tests: what fails each cell is a hidden test, not a CheckFailed.
    autograded = graded_class.root / "grading" / "autograded" / cheat.student / assignment
    errors = {}
    for path in autograded.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            cell_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell_id in cheat.loses:
                errors[cell_id] = [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]
    visible_failures = {cell: names for cell, names in errors.items() if "CheckFailed" in names}
    assert set(errors) == set(cheat.loses) and not visible_failures, \
        f"{cheat.student} should pass the visible tests and fail the hidden ones: {errors}"


def fidelity(graded_class, assignment: str) -> dict[str, object]:
    """What the class shows about the autograder: bugs killed, collateral losses, false failures."""
    def lost_cells(student):
        return {cell for cell, (got, full) in graded_class.auto(student).items() if got != full}

    bugs = MUTATIONS[assignment]
    killed = [m for m in bugs if set(m.loses) <= lost_cells(m.student)]
    collateral = [m for m in bugs if lost_cells(m.student) - set(m.loses)]
    alternatives = _alternative_students(assignment)
    false_failures = {s: sorted(lost_cells(s)) for s in ["solution", *alternatives] if lost_cells(s)}
    cheats = HARD_CODERS.get(assignment, [])
    caught = [c for c in cheats if set(c.loses) <= lost_cells(c.student)]
    per_function = {}
    for path in sorted((graded_class.root / "solutions" / assignment).glob("*.ipynb")):
        per_function.update({c.metadata.nbgrader.grade_id: 0 for c in nbformat.read(path, as_version=4).cells
                             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")})
    for m in bugs:
        per_function[m.cell] = per_function.get(m.cell, 0) + 1
    return {"bugs": len(bugs), "killed": len(killed), "collateral": [m.student for m in collateral],
            "fewest_per_function": min(per_function.values(), default=0),
            "alternatives": sum(len(r.cells) for r in alternatives.values()), "submissions": len(alternatives),
            "false_failures": false_failures, "cheats": len(cheats), "caught": len(caught)}


@_each_assignment
def test_fidelity_figures(graded, assignment):
    figures = fidelity(graded(assignment), assignment)
    n_false = sum(len(cells) for cells in figures["false_failures"].values())
    print(f"{assignment}: {figures['killed']}/{figures['bugs']} bugs killed (at least "
          f"{figures['fewest_per_function']} per graded function), {len(figures['collateral'])} cost other cells too; "
          f"{figures['alternatives']} alternative solutions in {figures['submissions']} submissions and the "
          f"solution: {n_false} false failures; hard-coders caught: {figures['caught']}/{figures['cheats']}")
    assert figures["killed"] == figures["bugs"] and not figures["collateral"], figures
    assert not figures["false_failures"], figures
    assert figures["caught"] == figures["cheats"], figures
