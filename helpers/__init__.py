"""Helper package for the recurrent-networks course kit.

Students import it from the notebooks; it holds data loading, vocabularies,
gradient checking, friendly checks for the visible tests, plotting, widgets and
training utilities (the course checkout adds the instructor commands). It never
holds the answer to a graded exercise.

It lives in one of three places: the course checkout (installed in editable
mode), the unpacked student kit (its `kit.py` puts the folder on the
environment's path), or site-packages, installed from the student kit's wheel
(Google Colab, Binder, a JupyterHub image).
"""
from pathlib import Path

#: The folder of this package.
PACKAGE_DIR = Path(__file__).resolve().parent
#: The folder that holds the package: the course checkout or the student kit (site-packages when
#: the package is installed from the wheel; see :func:`course_folder`).
COURSE_ROOT = PACKAGE_DIR.parent


def course_folder() -> "Path | None":
    """The course checkout or student kit this package belongs to (the folder with `data/manifest.json`
    beside the package); None when it is installed from the wheel."""
    return COURSE_ROOT if (COURSE_ROOT / "data" / "manifest.json").is_file() else None
