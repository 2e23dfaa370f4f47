"""Shared fixtures: the course checkout, its assignments, and a graded class per assignment."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers import COURSE_ROOT

# Progress bars would only clutter the logs of the kernels the tests start.
os.environ.setdefault("RNN_KIT_NO_PROGRESS", "1")
# nbgrader starts alembic and the kernels from PATH: the environment running the tests comes first.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def course_root() -> Path:
    return COURSE_ROOT
