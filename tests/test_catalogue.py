"""The bug catalogue covers every graded function and still applies to the solutions
(fast checks; the real autograde of each bug is in test_autograde.py)."""
from __future__ import annotations

import nbformat
import pytest

from catalogue import MUTATIONS
from helpers import instructor
from submissions import solution_sources


@pytest.mark.parametrize("assignment", instructor.assignments())
def test_every_graded_function_has_a_bug(course_root, assignment):
    assert assignment in MUTATIONS, f"no tests/bugs_{instructor.expected_prefix(assignment)}.py for {assignment}"
    exercised = {m.cell for m in MUTATIONS[assignment]}
    for path in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code_exercises = {c.metadata.nbgrader.grade_id for c in nb.cells
                          if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
        assert code_exercises <= exercised, f"{path.name}: no realistic bug for {sorted(code_exercises - exercised)}"


@pytest.mark.parametrize("assignment", sorted(MUTATIONS))
def test_bugs_apply_and_name_real_test_cells(course_root, assignment):
    sources, tests = {}, set()
    for path in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        sources.update(solution_sources(path))
        nb = nbformat.read(path, as_version=4)
        tests |= {c.metadata.nbgrader.grade_id for c in nb.cells
                  if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
    students = [m.student for m in MUTATIONS[assignment]]
    assert len(set(students)) == len(students), "two bugs share a student id"
    for mutation in MUTATIONS[assignment]:
        assert mutation.apply(sources)[mutation.cell] != sources[mutation.cell]
        assert mutation.loses and set(mutation.loses) <= tests, \
            f"{mutation.student}: {sorted(set(mutation.loses) - tests)} are not graded test cells"
