"""Shared fixtures: the course checkout, its assignments, and a graded class per assignment."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers import COURSE_ROOT

# Progress bars would only clutter the logs of the kernels the tests start.
os.environ.setdefault("RNN_KIT_NO_PROGRESS", "1")
# Kernels and graders run side by side on every core (pytest-xdist workers): one BLAS / torch
# thread each, instead of pools sized for the whole machine that spin against each other.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
# nbgrader starts alembic and the kernels from PATH: the environment running the tests comes first.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def course_root() -> Path:
    return COURSE_ROOT


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make `--dist=loadgroup` group the tests again.

    pytest-xdist 3.8 sends the tests marked `xdist_group(name)` to one worker by renaming
    `item._nodeid` to `<nodeid>@name`; pytest 9.2 keeps the node id in `item._id` and ignores
    `_nodeid`, so the groups were silently spread over the workers (each worker then graded the
    same class again, and order-dependent module fixtures broke). Rename where pytest reads it.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest, where xdist's own renaming works
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)
