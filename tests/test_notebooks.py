"""Every solution notebook executes top to bottom in a real kernel, the expected values
its visible tests read are the ones it produces, and every figure it draws is labelled."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import instructor
from helpers.expected_values import decode

pytestmark = pytest.mark.slow

# Runs in the kernel before the notebook: logs the title and axis labels of every
# figure matplotlib renders (inline plots and plots inside widgets alike).
FIGURE_LOG_PRELUDE = r'''
import json as _json
from matplotlib.backend_bases import FigureCanvasBase as _Canvas
_print_figure = _Canvas.print_figure
def _logged_print_figure(self, *args, **kwargs):
    _fig = self.figure
    _suptitle = _fig._suptitle.get_text() if _fig._suptitle is not None else ""
    _axes = [{"title": " ".join(t for t in (_ax.get_title("left"), _ax.get_title(), _ax.get_title("right")) if t),
              "xlabel": _ax.get_xlabel(), "ylabel": _ax.get_ylabel(), "label": _ax.get_label(),
              "has_data": bool(_ax.lines or _ax.patches or _ax.images or _ax.collections),
              "axis_on": _ax.axison}
             for _ax in _fig.axes]
    with open(FIGURE_LOG, "a") as _log:
        _log.write(_json.dumps({"suptitle": _suptitle, "axes": _axes}) + "\n")
    return _print_figure(self, *args, **kwargs)
_Canvas.print_figure = _logged_print_figure
'''


@pytest.mark.parametrize("assignment", instructor.assignments())
def test_solution_executes_and_expected_values_are_current(course_root, tmp_path, assignment):
    figure_log = tmp_path / "figures.jsonl"
    # Raises CellExecutionError, with the failing cell and its traceback, on the first error.
    recorded = instructor.record_expected(course_root, out_dir=tmp_path / "expected",
                                          weights_dir=tmp_path / "weights", only=[assignment],
                                          prelude=f"FIGURE_LOG = {str(figure_log)!r}\n" + FIGURE_LOG_PRELUDE)
    prefix = instructor.expected_prefix(assignment)
    fresh = json.loads((recorded / f"{prefix}.json").read_text())
    committed_path = course_root / "helpers" / "expected" / f"{prefix}.json"
    assert committed_path.is_file(), f"{committed_path} is missing: run `python3 kit.py release`"
    committed = json.loads(committed_path.read_text())
    assert sorted(fresh) == sorted(committed), \
        f"the visible tests use other keys than {committed_path.name} holds: run `python3 kit.py release`"
    for key in fresh:
        want, got = decode(key, committed[key]), decode(key, fresh[key])
        # Not bit-for-bit: another BLAS may round the last digit differently.
        assert np.shape(want) == np.shape(got) and np.allclose(got, want, rtol=1e-10, atol=1e-12), \
            f"{key}: the solution now gives {got}, {committed_path.name} holds {want}: run `python3 kit.py release`"
    _check_figures(assignment, figure_log)


def _check_figures(assignment, figure_log):
    """Every plot a notebook shows has a title and both axis labels."""
    assert figure_log.is_file(), f"{assignment} draws no figure: every notebook shows its experiments"
    figures = [json.loads(line) for line in figure_log.read_text().splitlines()]
    for n, figure in enumerate(figures, 1):
        for ax in figure["axes"]:
            if not ax["has_data"] or not ax["axis_on"] or ax["label"] == "<colorbar>":
                continue
            where = f"{assignment}, figure {n} ({figure['suptitle'] or ax['title'] or 'untitled'})"
            assert ax["title"] or figure["suptitle"], f"{where}: a plot without a title"
            assert ax["xlabel"] and ax["ylabel"], f"{where}: a plot without axis labels {ax}"
