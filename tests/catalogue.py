"""Realistic student bugs per assignment, applied to the solution and autograded for real.

Each assignment's bugs live in `tests/bugs_<prefix>.py` (`ASSIGNMENT`, `MUTATIONS`).
Each bug must cost the points of the test cells that exercise the buggy
function and no others (tests/test_autograde.py).
"""
import importlib
from pathlib import Path

from submissions import Mutation

MUTATIONS: dict[str, list[Mutation]] = {}
for _path in sorted(Path(__file__).parent.glob("bugs_*.py")):
    _module = importlib.import_module(_path.stem)
    MUTATIONS[_module.ASSIGNMENT] = list(_module.MUTATIONS)
