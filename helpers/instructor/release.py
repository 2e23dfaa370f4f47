"""Release: the student versions of solutions/ and the visible tests' expected values."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat

from helpers import COURSE_ROOT
from helpers.instructor.course import GRADING, GradingError, assignments, check_assignment, default_db_url, nbgrader


def generate_release(root: Path = COURSE_ROOT, *, release_dir: Path | None = None,
                     db_url: str | None = None, only: list[str] | None = None) -> Path:
    """Write the student versions of `solutions/` into `release_dir` (default notebooks/)."""
    release_dir = Path(release_dir or root / "notebooks")
    db_url = db_url or default_db_url(root)
    (root / GRADING).mkdir(exist_ok=True)
    for assignment in only or assignments(root):
        check_assignment(root, assignment)
        proc = nbgrader(root, db_url, "generate_assignment", assignment, "--force",
                        f"--CourseDirectory.release_directory={release_dir}", quiet=True)
        if proc.returncode:
            raise GradingError(f"nbgrader generate_assignment {assignment} failed (output above)")
    return release_dir


def expected_prefix(assignment: str) -> str:
    """The key prefix (and file stem in helpers/expected/) of an assignment: a1_rnn_forward -> a1."""
    return assignment.split("_", 1)[0]


def record_expected(root: Path = COURSE_ROOT, *, out_dir: Path | None = None,
                    weights_dir: Path | None = None, only: list[str] | None = None,
                    prelude: str | None = None) -> Path:
    """Run the solution notebooks in record mode: their visible tests store the expected values.

    Each assignment's values are recorded in a scratch folder and replace
    `out_dir/<prefix>.json` only once all its notebooks ran without error.
    Weights a solution trains for later assignments go to `weights_dir`
    (default helpers/weights/; see helpers.pretrained.kit_weights_target).
    `prelude`, if given, runs in each kernel before the notebook (the tests use
    it to inspect every figure drawn).
    """
    from nbclient import NotebookClient

    from helpers.pretrained import WEIGHTS_DIR_ENV

    out_dir = Path(out_dir or root / "helpers" / "expected")
    out_dir.mkdir(parents=True, exist_ok=True)
    build_env = {"RNN_KIT_RECORD_EXPECTED": None, WEIGHTS_DIR_ENV: str(weights_dir or root / "helpers" / "weights")}
    for assignment in only or assignments(root):
        name = f"{expected_prefix(assignment)}.json"
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            build_env["RNN_KIT_RECORD_EXPECTED"] = scratch
            saved = {k: os.environ.get(k) for k in build_env}
            os.environ.update(build_env)  # the kernels inherit them
            try:
                for path in sorted((root / "solutions" / assignment).glob("*.ipynb")):
                    nb = nbformat.read(path, as_version=4)
                    if prelude:
                        nb.cells.insert(0, nbformat.v4.new_code_cell(prelude))
                    NotebookClient(nb, timeout=1200, kernel_name="python3",
                                   resources={"metadata": {"path": str(path.parent)}}).execute()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            if not (Path(scratch) / name).is_file():
                raise GradingError(f"{assignment}: the solutions recorded no expected values "
                                   f"(no check_expected call with a key starting {name[:-5]}.)")
            os.replace(Path(scratch) / name, out_dir / name)
    return out_dir

