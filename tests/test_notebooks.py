"""Every solution notebook executes top to bottom in a real kernel, and the
expected values its visible tests read are the ones it produces."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import instructor
from helpers.checks import _decode

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", instructor.assignments())
def test_solution_executes_and_expected_values_are_current(course_root, tmp_path, assignment):
    # Raises CellExecutionError, with the failing cell and its traceback, on the first error.
    recorded = instructor.record_expected(course_root, out_dir=tmp_path / "expected",
                                          weights_dir=tmp_path / "weights", only=[assignment])
    prefix = instructor.expected_prefix(assignment)
    fresh = json.loads((recorded / f"{prefix}.json").read_text())
    committed_path = course_root / "helpers" / "expected" / f"{prefix}.json"
    assert committed_path.is_file(), f"{committed_path} is missing: run `python3 kit.py release`"
    committed = json.loads(committed_path.read_text())
    assert sorted(fresh) == sorted(committed), \
        f"the visible tests use other keys than {committed_path.name} holds: run `python3 kit.py release`"
    for key in fresh:
        want, got = _decode(key, committed[key]), _decode(key, fresh[key])
        # Not bit-for-bit: another BLAS may round the last digit differently.
        assert np.shape(want) == np.shape(got) and np.allclose(got, want, rtol=1e-10, atol=1e-12), \
            f"{key}: the solution now gives {got}, {committed_path.name} holds {want}: run `python3 kit.py release`"
