"""notebooks/ is exactly what solutions/ generates, and gives nothing away."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import instructor
from helpers.instructor.release import says_something

ASSIGNMENTS = instructor.assignments()
STUB = re.compile(r"^(\s*)#your code#\n\1raise NotImplementedError\(\)$", re.MULTILINE)


def _notebooks(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.ipynb"))
            if ".ipynb_checkpoints" not in p.parts}


def test_every_assignment_is_released(course_root):
    assert ASSIGNMENTS, "solutions/ holds no assignment"
    for assignment in ASSIGNMENTS:
        for source in (course_root / "solutions" / assignment).glob("*.ipynb"):
            assert (course_root / "notebooks" / assignment / source.name).is_file(), \
                f"{source} has no student version: run `python3 kit.py release`"


@pytest.mark.slow
def test_notebooks_are_what_solutions_generate(course_root, tmp_path):
    fresh = instructor.generate_release(course_root, release_dir=tmp_path / "release",
                                        db_url=f"sqlite:///{tmp_path / 'gradebook.db'}")
    committed = _notebooks(course_root / "notebooks")
    generated = _notebooks(fresh)
    assert sorted(committed) == sorted(generated), "notebooks/ and solutions/ hold different notebooks"
    stale = [name for name in generated if committed[name] != generated[name]]
    assert not stale, f"notebooks/ is out of date for {stale}: run `python3 kit.py release`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_or_hidden_test(course_root, assignment):
    secrets = instructor.secret_lines(course_root, assignment)
    for source in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        assert secrets, f"{source}: no solution regions or hidden tests found"
        release = nbformat.read(course_root / "notebooks" / assignment / source.name, as_version=4)
        text = "\n".join(cell.source for cell in release.cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{source.name}: the release still contains {marker!r}"
        released_lines = {line.strip() for line in text.splitlines()}
        leaked = sorted(secrets & released_lines)
        assert not leaked, f"{source.name}: the release contains solution or hidden-test lines {leaked[:5]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_the_stub_and_no_outputs(course_root, assignment):
    for path in sorted((course_root / "notebooks" / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code_solutions = [c for c in nb.cells if c.cell_type == "code"
                          and c.metadata.get("nbgrader", {}).get("solution")]
        assert code_solutions, f"{path.name} has no exercise cells"
        for cell in code_solutions:
            assert STUB.search(cell.source), f"{path.name}: exercise cell {cell.metadata.nbgrader.grade_id} " \
                                        f"lacks the `#your code#` stub"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, \
                    f"{path.name}: committed with outputs"
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert all(c.metadata.nbgrader.get("points", 0) > 0 for c in graded), f"{path.name}: a graded cell has no points"


def test_solutions_committed_without_outputs(course_root):
    for path in sorted((course_root / "solutions").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
        assert not with_outputs, f"{path} is committed with outputs in cells {with_outputs}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hint_or_text_quotes_a_solution_line(course_root, assignment):
    """A hint points at the idea: no released text holds a line of a solution region, even inside a
    longer line (a hint that prints `p -= learning_rate * g / np.sqrt(mem + 1e-8)` gives it away)."""
    for source in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        answers = instructor.secret_lines(course_root, assignment, ("SOLUTION",),
                                          lambda line: says_something(line) and not line.startswith("#"))
        text = "\n".join(cell.source for cell in nbformat.read(
            course_root / "notebooks" / assignment / source.name, as_version=4).cells)
        # the line itself, not a prefix of a longer statement (`return params` of `return params, x`)
        quoted = sorted(line for line in answers
                        if re.search(r"(?<![\w.])" + re.escape(line) + r"(?![\w,(\[])", text))
        assert not quoted, f"{source.name}: the release quotes solution lines {quoted}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_module_stays_with_the_instructor(course_root, assignment):
    """reference.py (the hidden tests' references) is counted as hidden tests by the leak test above and
    never copied beside the student version."""
    assert not list((course_root / "notebooks" / assignment).rglob("reference.py"))
    reference = course_root / "solutions" / assignment / "reference.py"
    if reference.is_file():
        lines = {line.strip() for line in reference.read_text(encoding="utf-8").splitlines() if says_something(line.strip())}
        assert lines & instructor.secret_lines(course_root, assignment, ("HIDDEN TESTS",)), \
            "the leak tests must look for the reference module's lines"


def test_a_visible_test_cell_shows_the_values_it_expects():
    from helpers.instructor.release import show_expected

    stored = {"a9.h": np.array([[0.5], [-0.25]]), "a9.loss": 4.1743872699, "a9.big": np.arange(40.0).reshape(4, 10)}
    source = ('# one step: h and the loss\ncheck_expected("a9.h", h)\ncheck_expected(\'a9.loss\', loss)\n'
              'check_expected("a9.big", W)\ncheck_expected("a9.unknown", x)\n'
              '### BEGIN HIDDEN TESTS\ncheck_expected("a9.hidden", 1)\n### END HIDDEN TESTS')
    lines = show_expected(source, lambda key: stored[key]).splitlines()
    assert lines[:5] == ["# one step: h and the loss", "# expected (recorded from the reference solution):",
                         "#   a9.h: shape (2, 1): 0.5, -0.25", "#   a9.loss: 4.174",
                         "#   a9.big: shape (4, 10), the first 8 of 40 in row order: 0, 1, 2, 3, 4, 5, 6, 7"]
    assert lines[5:] == source.splitlines()[1:], "the cell's code is kept as it was"
    assert show_expected("x = 1", lambda key: stored[key]) == "x = 1"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_test_cells_show_their_recorded_values(course_root, assignment):
    from helpers.expected_values import expected
    from helpers.instructor.release import CHECK_EXPECTED, REGION

    for source in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        released = {c.metadata.nbgrader.grade_id: c.source
                    for c in nbformat.read(course_root / "notebooks" / assignment / source.name, as_version=4).cells
                    if c.metadata.get("nbgrader", {}).get("grade")}
        for cell in nbformat.read(source, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            for key in CHECK_EXPECTED.findall(REGION.sub("", cell.source)):
                expected(key)  # recorded
                assert f"#   {key}: " in released[meta["grade_id"]], \
                    f"{source.name}, {meta['grade_id']}: the release does not show {key}; run `python3 kit.py release`"


def _code_cells(course_root, assignment):
    for source in sorted((course_root / "solutions" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(source, as_version=4).cells:
            if cell.cell_type == "code":
                yield source.name, cell.metadata.get("nbgrader", {}), cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_start_by_naming_what_they_check(course_root, assignment):
    """A visible test cell opens with a one-line comment (the release writes the expected values under it)."""
    for name, meta, source in _code_cells(course_root, assignment):
        if meta.get("grade") and not meta.get("solution"):
            first = source.split("\n", 1)[0]
            assert first.startswith("# ") and not first.startswith("### "), \
                f"{name}, {meta.get('grade_id')}: the first line should say what the cell checks, got {first!r}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_demonstration_cells_hold_one_idea(course_root, assignment):
    """Given code comes in short cells with text between them (d2l's way), not in pages of code."""
    for name, meta, source in _code_cells(course_root, assignment):
        if not meta.get("grade") and not meta.get("solution"):
            assert len(source.splitlines()) <= 40, \
                f"{name}, {meta.get('grade_id')}: {len(source.splitlines())} lines; split it, one idea per cell"


def test_solutions_record_with_one_thread_unless_the_instructor_chose(tmp_path, monkeypatch):
    """The recording kernels get one BLAS and torch thread; a thread count set by the instructor stays."""
    from helpers.expected_values import decode

    root = tmp_path / "course"
    (root / "solutions" / "a9_threads").mkdir(parents=True)
    cell = ("import os\nfrom helpers.checks import check_expected\n"
            "check_expected('a9.omp', float(os.environ['OMP_NUM_THREADS']))\n"
            "check_expected('a9.mkl', float(os.environ['MKL_NUM_THREADS']))\n")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]),
                   root / "solutions" / "a9_threads" / "threads.ipynb")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    out = instructor.record_expected(root, out_dir=tmp_path / "expected", weights_dir=tmp_path / "weights")
    recorded = json.loads((out / "a9.json").read_text())
    assert decode("a9.omp", recorded["a9.omp"]) == 1.0
    assert decode("a9.mkl", recorded["a9.mkl"]) == 3.0
    assert "OMP_NUM_THREADS" not in os.environ, "the grader's own environment is left as it was"
