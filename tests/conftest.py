"""Shared fixtures: the course checkout, its assignments, and a graded class per assignment."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import COURSE_ROOT

# Progress bars would only clutter the logs of the kernels the tests start.
os.environ.setdefault("RNN_KIT_NO_PROGRESS", "1")


@pytest.fixture(scope="session")
def course_root() -> Path:
    return COURSE_ROOT
