"""Release: the student versions of solutions/ and the visible tests' expected values."""
from __future__ import annotations

import os
import re
import tempfile
import textwrap
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.preprocessors import NbGraderPreprocessor

from helpers import COURSE_ROOT
from helpers.instructor.course import (GRADING, THREAD_VARIABLES, GradingError, assignments, check_assignment,
                                      default_db_url, nbgrader)
from helpers.instructor.references import load_reference

#: A solution region or a hidden-test region of a cell: group 1 its kind, group 2 its lines.
REGION = re.compile(r"^\s*### BEGIN (SOLUTION|HIDDEN TESTS)\s*$(.*?)^\s*### END \1\s*$", re.MULTILINE | re.DOTALL)


BARE_CALL = re.compile(r"[A-Za-z_]\w*\(\)")
IMPORT_LINE = re.compile(r"(?:import [\w.]+(?: as \w+)?|from [\w.]+ import [\w, ]+)")


def says_something(line: str) -> bool:
    """Short lines (`return x`, `)`) say nothing about an answer or a test; neither do imports
    (`import torch` is also a prefix of every `import torch._refs` line of a traceback through torch)
    nor a bare call such as `hidden_test_sample()` (IPython's tracebacks name the function a hidden
    test runs in)."""
    return len(line) >= 12 and not BARE_CALL.fullmatch(line) and not IMPORT_LINE.fullmatch(line)


def secret_lines(root: Path, assignment: str, kinds=("SOLUTION", "HIDDEN TESTS"), keep=says_something) -> set[str]:
    """What students must never see of an assignment: the (stripped) lines of its solution regions
    and hidden tests, with what its reference.py can inline counted as hidden tests, that its notebooks show nowhere
    outside those regions and that `keep` keeps."""
    secret, public = set(), set()
    folder = Path(root) / "solutions" / assignment
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for match in REGION.finditer(cell.source):
                if match.group(1) in kinds:
                    secret.update(line.strip() for line in match.group(2).splitlines())
            public.update(line.strip() for line in REGION.sub("", cell.source).splitlines())
    reference = load_reference(folder) if "HIDDEN TESTS" in kinds else None
    if reference is not None:
        secret.update(line.strip() for line in reference.lines())
    return {line for line in secret - public if keep(line)}


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
    (default helpers/weights/, which `kit.py release` replaces by a scratch
    folder unless given --weights; see helpers.pretrained.kit_weights_target).
    `prelude`, if given, runs in each kernel before the notebook (the tests use
    it to inspect every figure drawn).
    """
    from nbclient import NotebookClient

    from helpers.kernels import PrivateSocketKernelManager
    from helpers.pretrained import WEIGHTS_DIR_ENV

    out_dir = Path(out_dir or root / "helpers" / "expected")
    out_dir.mkdir(parents=True, exist_ok=True)
    build_env = {"RNN_KIT_RECORD_EXPECTED": None, WEIGHTS_DIR_ENV: str(weights_dir or root / "helpers" / "weights")}
    # One thread: torch's pool sized for the whole machine makes a6's small LSTM about 20 times
    # slower when the machine is busy (measured: 845 s against 39 s). A value the instructor set wins.
    build_env.update({name: "1" for name in THREAD_VARIABLES if name not in os.environ})
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
                                   kernel_manager_class=PrivateSocketKernelManager,
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



# ------------------------------------------------------------------------------------------------
# The expected values, shown in the student's visible test cells
# ------------------------------------------------------------------------------------------------
#: A check of a recorded value with a literal key (keys built at run time are not shown).
CHECK_EXPECTED = re.compile(r"""\bcheck_expected\(\s*["']([A-Za-z0-9_.-]+)["']""")
SHOWN_ENTRIES = 8  # an array with more entries is shown by its shape and first entries
LINE_WIDTH = 100


def _number(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{complex(value):.4g}" if isinstance(value, complex) else f"{float(value):.4g}"


def describe_expected(value) -> str:
    """A recorded value in one line: `0.6931`, `[0.09003, 0.2447, 0.6652]`, or its shape and (first) entries."""
    if not isinstance(value, np.ndarray):
        return _number(value)
    flat = [_number(v) for v in value.reshape(-1)[:SHOWN_ENTRIES]]
    if value.size <= SHOWN_ENTRIES and value.ndim <= 1:
        return "[" + ", ".join(flat) + "]"
    if value.size <= SHOWN_ENTRIES:
        return f"shape {value.shape}: {', '.join(flat)}"
    return f"shape {value.shape}, the first {len(flat)} of {value.size} in row order: {', '.join(flat)}"


def expected_comment(keys: list[str], lookup) -> list[str]:
    """The comment lines that show what the checks of `keys` expect (keys `lookup` cannot find are left out)."""
    lines = []
    for key in dict.fromkeys(keys):
        try:
            shown = describe_expected(lookup(key))
        except KeyError:
            continue
        text = f"#   {key}: {shown}"
        lines += textwrap.wrap(text, LINE_WIDTH, subsequent_indent="#       ", break_on_hyphens=False)
    return ["# expected (recorded from the reference solution):", *lines] if lines else []


def show_expected(source: str, lookup) -> str:
    """`source` of a visible test cell with the values its `check_expected` calls expect, as comments
    after its first line (the comment naming what it checks)."""
    visible = REGION.sub("", source)
    comment = expected_comment(CHECK_EXPECTED.findall(visible), lookup)
    if not comment:
        return source
    first, _, rest = source.partition("\n")
    if not first.lstrip().startswith("#"):
        return "\n".join([*comment, source])
    return "\n".join([first, *comment, rest]) if rest else "\n".join([first, *comment])


class ShowExpected(NbGraderPreprocessor):
    """generate_assignment: the visible test cells show the numbers they expect, as CS231n prints
    `expected_next_h` beside the student's result. Runs before the gradebook stores the test cells,
    so that grading restores the same cells; the values come from the expected-values files the
    release has just recorded."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            from helpers.expected_values import expected

            cell.source = show_expected(cell.source, expected)
        return cell, resources
