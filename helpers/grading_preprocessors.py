"""nbgrader preprocessors of the course kit, configured in `nbgrader_config.py`.

They plug into nbgrader's own converters (autograde and generate_feedback), so
they apply whether grading runs from `rnn-kit`, from `nbgrader` on the command
line or from the formgrader. What each one is for (README, "How grading works"):

- :class:`RestoreCells` (autograde, sanitising step): nbgrader's
  ``OverwriteCells`` that also puts every cell's nbgrader flags back from the
  gradebook, inserts deleted test cells after the nearest cell the submission
  still has, and turns cells the gradebook does not know (a renamed cell, a
  notebook of another assignment) into ordinary cells, where nbgrader 0.9.6
  crashes on them.
- :class:`CapOutput` (autograde, after execution): at most ``max_chars``
  characters of output per cell. nbgrader's ``LimitOutput`` counts stream
  lines only: one 50 MB line went through whole.
- :class:`PassFailTests` (autograde, after execution): test cells pass or
  fail. nbgrader gives partial credit to a test cell whose first
  ``execute_result`` is a number, and a submission can publish one itself
  (``sys.displayhook(3.0)`` inside a graded function) ahead of the failing
  assertion.
- :class:`HideHiddenTests` (feedback): removes the hidden-test regions from the
  cells and every line of output (tracebacks, warnings) that quotes hidden
  code, so that the feedback shows the failure message and not the hidden
  tests (nbgrader shows them, upstream issue 917).
"""
from __future__ import annotations

import json
import re

from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Integer, Unicode

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

__all__ = ["RestoreCells", "CapOutput", "PassFailTests", "HideHiddenTests", "hidden_lines", "quotes_hidden",
           "is_source_quote"]


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class RestoreCells(OverwriteCells):
    """OverwriteCells that cannot be crashed or fooled by the cells' metadata."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            source = gb.find_notebook(resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"])
            self._order = [cell.name for cell in source.source_cells]
            self._points = {cell.name: float(cell.max_score) for cell in source.grade_cells}
            self._solutions = {cell.name for cell in source.solution_cells}
            self._tasks = {cell.name for cell in source.task_cells}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return cell, resources
        grade_id = meta.get("grade_id")
        if grade_id not in self._order:
            # Unknown to the gradebook: an ordinary cell, which earns nothing and crashes nothing.
            self.log.warning("Cell %r is not a cell of this assignment: graded as an ordinary cell", grade_id)
            del cell.metadata["nbgrader"]
            return cell, resources
        # The gradebook, not the submission, says what a cell is.
        meta["grade"] = grade_id in self._points
        meta["solution"] = grade_id in self._solutions
        meta["task"] = grade_id in self._tasks
        if meta["grade"]:
            meta["points"] = self._points[grade_id]
        else:
            meta.pop("points", None)
        return super().preprocess_cell(cell, resources, cell_index)

    def add_missing_grade_cells(self, nb, resources):
        """Put each missing grade cell back after the last cell that precedes it in the source."""
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = {cell.name: cell for cell in source_nb.source_cells}
        for position, name in enumerate(self._order):
            if name not in self._points or any(_grade_id(c) == name for c in nb.cells):
                continue
            self.log.warning("Missing grade cell %s: adding it back to the notebook", name)
            earlier = set(self._order[:position])
            insert_at = 0
            for index, cell in enumerate(nb.cells):
                if _grade_id(cell) in earlier:
                    insert_at = index + 1
            nb.cells.insert(insert_at, self.missing_cell_transform(
                source_cells[name], self._points[name], is_solution=name in self._solutions))
        return nb, resources


def _output_size(output) -> int:
    if output.output_type == "stream":
        return len(output.get("text", ""))
    if output.output_type == "error":
        return len(output.get("evalue", "")) + sum(len(line) for line in output.get("traceback", []))
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in output.get("data", {}).values())


class CapOutput(NbGraderPreprocessor):
    """At most `max_chars` characters of output per cell; outputs are shortened, never removed.

    An error output stays an error and a stderr stream stays on stderr, so the
    cell's grade does not change (nbgrader scores a test cell 0 when it has
    either); only their text is cut.
    """

    max_chars = Integer(500_000, help="characters of output kept per cell, all outputs together "
                                      "(-1: no limit)").tag(config=True)

    def _notice(self, size: int) -> str:
        return (f"\n... output cut by the autograder: this cell wrote {size:,} characters, "
                f"{self.max_chars:,} are kept ...\n")

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or self.max_chars < 0:
            return cell, resources
        total = sum(_output_size(o) for o in cell.outputs)
        if total <= self.max_chars:
            return cell, resources
        left = self.max_chars
        for output in cell.outputs:
            size = _output_size(output)
            if size <= left:
                left -= size
                continue
            keep = max(left, 0)
            if output.output_type == "stream":
                output.text = output.text[:keep] + self._notice(total)
            elif output.output_type == "error":
                output.evalue = output.evalue[:min(keep, 2_000)]
                lines, budget = [], keep
                for line in output.traceback:
                    lines.append(line[:budget])
                    budget = max(budget - len(line), 0)
                output.traceback = [line for line in lines if line] + [self._notice(total).strip()]
            else:
                text = output.get("data", {}).get("text/plain", "")
                if not isinstance(text, str):
                    text = "".join(text)
                output.data = {"text/plain": text[:keep] + self._notice(total)}
                output.metadata = {}
            left = 0
        return cell, resources


class PassFailTests(NbGraderPreprocessor):
    """No partial credit: an `execute_result` in a test cell is shown, but not read as a score."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for index, output in enumerate(cell.outputs):
                if output.output_type == "execute_result":
                    cell.outputs[index] = NotebookNode(output_type="display_data", data=output.get("data", {}),
                                                       metadata=output.get("metadata", {}))
        return cell, resources


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython quotes code in tracebacks as "---> 40 code" or "     38 code".
_LINENO = re.compile(r"^\s*(?:-*>\s*)?\d+\s")


def hidden_lines(cells, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS") -> set[str]:
    """The stripped, non-empty lines inside the hidden-test regions of `cells`."""
    found, inside = set(), False
    for cell in cells:
        for line in cell.get("source", "").split("\n"):
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and line.strip():
                found.add(line.strip())
        inside = False
    return found


def is_source_quote(line: str) -> bool:
    """Whether one line of a traceback is IPython quoting source: `---> 12 code` or `     11 code`."""
    return bool(_LINENO.match(_ANSI.sub("", line)))


def quotes_hidden(line: str, hidden: set[str]) -> bool:
    """Whether one line of output (ANSI colours and all) shows a line of hidden code."""
    plain = _ANSI.sub("", line).rstrip()
    if not plain.strip():
        return False
    return plain.strip() in hidden or _LINENO.sub("", plain, count=1).strip() in hidden


class HideHiddenTests(ClearHiddenTests):
    """Feedback without the hidden tests: the regions leave the cells, their quotes leave the outputs.

    Each region becomes one comment line (`placeholder`), so the student sees
    where hidden tests ran; the failure message of a hidden test (the
    exception's type and text) stays in the output.
    """

    placeholder = Unicode("# (hidden tests: not shown)", help="what a hidden-test region becomes").tag(config=True)
    # A student may write the marker in a cell of their own: never fail the feedback over it.
    enforce_metadata = Bool(False)

    def preprocess(self, nb, resources):
        self._hidden = hidden_lines(nb.cells, self.begin_test_delimeter, self.end_test_delimeter)
        return super().preprocess(nb, resources)

    def _remove_hidden_test_region(self, cell) -> bool:
        lines, inside, removed = [], False, False
        for line in cell.source.split("\n"):
            if self.begin_test_delimeter in line:
                inside = removed = True
                lines.append(line[:len(line) - len(line.lstrip())] + self.placeholder)
            elif self.end_test_delimeter in line:
                inside = False
            elif not inside:
                lines.append(line)
        cell.source = "\n".join(lines)
        return removed

    def _clean(self, text: str) -> str:
        lines = text.split("\n")
        kept, dropped = [], False
        for line in lines:
            if quotes_hidden(line, self._hidden):
                dropped = True
                continue
            # Python's ^^^^ markers under a line that was dropped point at nothing.
            if dropped and set(_ANSI.sub("", line).strip()) <= set("^~ "):
                if _ANSI.sub("", line).strip():
                    continue
            dropped = False
            kept.append(line)
        return "\n".join(kept)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [self._clean(entry) for entry in output.traceback]
                elif output.output_type == "stream":
                    output.text = self._clean(output.text)
        return super().preprocess_cell(cell, resources, cell_index)
