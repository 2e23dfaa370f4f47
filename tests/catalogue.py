"""What a class of students does to each assignment, applied to the solution and autograded for real.

Per assignment (`<prefix>` as in a1):

- `tests/bugs_<prefix>.py` (`ASSIGNMENT`, `MUTATIONS`): realistic bugs. Each must cost the
  points of the test cells that exercise the buggy function and no others.
- `tests/alternatives_<prefix>.py` (optional; `ASSIGNMENT`, `ALTERNATIVES` as
  (student, grade_id, full source of that solution cell), `HARD_CODERS` as `Rewrite`s):
  correct solutions written differently, which must keep full marks, and submissions that
  hard-code the visible answers, which must lose the points of the cells they name.

tests/test_autograde.py grades all of them in one nbgrader run per assignment and prints the
figures (bugs killed, false failures).
"""
import importlib
from pathlib import Path

from submissions import Mutation, Rewrite

MUTATIONS: dict[str, list[Mutation]] = {}
for _path in sorted(Path(__file__).parent.glob("bugs_*.py")):
    _module = importlib.import_module(_path.stem)
    MUTATIONS[_module.ASSIGNMENT] = list(_module.MUTATIONS)

ALTERNATIVES: dict[str, list[Rewrite]] = {}
HARD_CODERS: dict[str, list[Rewrite]] = {}
# (a bugs_<prefix>.py may hold its assignment's ALTERNATIVES and HARD_CODERS too)
for _path in sorted([*Path(__file__).parent.glob("alternatives_*.py"), *Path(__file__).parent.glob("bugs_*.py")]):
    _module = importlib.import_module(_path.stem)
    ALTERNATIVES.setdefault(_module.ASSIGNMENT, []).extend(
        Rewrite(student, ((cell, source),), why=f"alternative {cell}")
        for student, cell, source in getattr(_module, "ALTERNATIVES", []))
    HARD_CODERS.setdefault(_module.ASSIGNMENT, []).extend(getattr(_module, "HARD_CODERS", []))
