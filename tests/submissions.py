"""Build student submissions for the grading tests: the released notebook with its
`#your code#` cells filled in from the solution (or left alone, or with a bug).

A submission is made the way a student makes one: starting from the file in
`notebooks/`, only the cells the student may edit (nbgrader solution cells)
change; the locked cells, their ids and checksums stay as released.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_sources(solution_nb: Path) -> dict[str, str]:
    """grade_id -> the instructor's full source of every solution cell (markers removed)."""
    nb = nbformat.read(solution_nb, as_version=4)
    out = {}
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            out[meta["grade_id"]] = "\n".join(lines)
    return out


@dataclass(frozen=True)
class Mutation:
    """A realistic bug: in solution cell `cell`, `old` becomes `new` (exactly once).

    `loses` names the test cells that must lose points; every other graded
    cell must keep full marks.
    """

    student: str
    cell: str
    old: str
    new: str
    loses: tuple[str, ...]
    why: str = field(default="", compare=False)

    def apply(self, sources: dict[str, str]) -> dict[str, str]:
        text = sources[self.cell]
        count = text.count(self.old)
        if count != 1:
            raise AssertionError(f"mutation {self.student}: {self.old!r} occurs {count} times in "
                                 f"solution cell {self.cell!r}; it must occur exactly once")
        changed = dict(sources)
        changed[self.cell] = text.replace(self.old, self.new)
        return changed


@dataclass(frozen=True)
class Rewrite:
    """Whole solution cells written another way: `cells` is ((grade_id, full source), ...).

    An alternative correct solution loses nothing (`loses` empty); a cheat, such
    as a hard-coder of the visible answers, must lose the points of `loses`.
    """

    student: str
    cells: tuple[tuple[str, str], ...]
    loses: tuple[str, ...] = ()
    why: str = field(default="", compare=False)

    def apply(self, sources: dict[str, str]) -> dict[str, str]:
        unknown = sorted(cell for cell, _ in self.cells if cell not in sources)
        if unknown:
            raise AssertionError(f"rewrite {self.student}: no solution cells {unknown}")
        changed = dict(sources)
        changed.update(dict(self.cells))
        return changed


def fill_release(release_nb: Path, sources: dict[str, str] | None) -> nbformat.NotebookNode:
    """The released notebook with its solution cells replaced by `sources` (None: untouched)."""
    nb = nbformat.read(release_nb, as_version=4)
    if sources is None:
        return nb
    nb = copy.deepcopy(nb)
    filled = set()
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution") and meta["grade_id"] in sources:
            cell.source = sources[meta["grade_id"]]
            filled.add(meta["grade_id"])
    missing = set(sources) - filled
    if missing:
        raise AssertionError(f"{release_nb}: no solution cells {sorted(missing)} in the release")
    return nb


def autograded_points(solution_nb: Path) -> float:
    """Points of the test cells (code grade cells) of a notebook: what the autograder can give."""
    nb = nbformat.read(solution_nb, as_version=4)
    return float(sum(_nbgrader(c).get("points", 0) for c in nb.cells
                     if c.cell_type == "code" and _nbgrader(c).get("grade")))


def write_submission(folder: Path, student: str, assignment: str, name: str,
                     nb: nbformat.NotebookNode) -> Path:
    """Write `nb` where a class's submissions live: folder/student/assignment/name.ipynb."""
    path = folder / student / assignment / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
