"""Helper package for the recurrent-networks course kit.

Students import it from the notebooks; it holds data loading, vocabularies,
gradient checking, friendly checks for the visible tests, plotting, widgets,
training utilities and the instructor commands. It never holds the answer to a
graded exercise.
"""
from pathlib import Path

#: Root of the course checkout (the package is installed in editable mode).
COURSE_ROOT = Path(__file__).resolve().parent.parent
