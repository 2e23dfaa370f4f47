"""The student kit: what students receive, built from the release by one command.

    rnn-kit student-kit ASSIGNMENT ... --github OWNER/REPO      (or --publish-url URL, or --all)

It writes, under dist/student-kit/ (git-ignored):

- `rnn-course-kit-student-VERSION/`: the released notebooks of the assignments named, the runtime
  part of `helpers/` (no instructor module), the visible tests' expected values of those
  assignments, the kit's weights, `data/manifest.json` and `data/README.md`, a student `kit.py`
  (setup, lab, data, check, submit), `environment.yml` and `postBuild` (Binder), a README for
  students, and the helpers as a wheel in `wheels/`;
- the same folder as a `.zip`, and the wheel beside it.

Each notebook's set-up cell (written once in solutions/) gets the address of the wheel, so that
on Google Colab, Binder or a JupyterHub without the course the notebook installs it; the data
then comes on first use. The address is where the kit will be published: a web folder
(`--publish-url https://example.org/rnn-kit/`, serving the kit folder's files) or a GitHub
repository holding the kit folder (`--github owner/repo`, which also gives the README its
"Open in Colab" and Binder links).

Later notebooks give earlier answers away on purpose (assignment 3 re-gives assignment 1's
`rnn_step_forward`, assignment 2 its forward pass): a kit with every assignment hands out
assignment 1's answers inside assignment 3 on day one. Build the kit with the assignments
released so far (or one at a time); the command names every notebook that shows an earlier
assignment's solution lines.

Before anything is written, the build checks what it made: no file of solutions/, no instructor
module, and no line of a solution region or of a hidden test that the kit's own notebooks do not
show. A failed build leaves the previous kit as it was.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import stat
import string
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers import COURSE_ROOT
from helpers.instructor.release import says_something, secret_lines

DIST_NAME = "rnn-course-kit-student"
WHEEL_DIST = "rnn_course_kit_student"
KIT_FOLDER = "rnn-course-kit-student-{version}"
FILES = Path(__file__).resolve().parent / "student_kit_files"
#: The modules of helpers/ that students get; every other file of helpers/ stays with the instructor.
RUNTIME_MODULES = ("__init__.py", "charrnn.py", "checks.py", "data.py", "expected_values.py", "gradcheck.py",
                   "kernels.py", "plotting.py", "pretrained.py", "training.py", "values.py", "widgets.py")
#: Of those, what `kit.py check` starts its kernels with: in the unpacked kit, not in the wheel, since no
#: notebook imports it and it needs jupyter_client (which ENVIRONMENT_EXTRA brings, and Colab has its own).
KIT_ONLY_MODULES = ("kernels.py",)
#: What the notebooks and the runtime helpers import, with floors and no exact pin: on Colab the
#: preinstalled packages must do (a pinned torch would download gigabytes into every session).
WHEEL_REQUIREMENTS = ("numpy>=1.26", "scipy>=1.11", "matplotlib>=3.8", "ipywidgets>=7.6", "tqdm>=4.66",
                      "ipython>=7.0", "torch>=2.0")
PYTHON_REQUIRES = ">=3.11"
#: The PyTorch the course is tested with: the student kit's own environment installs it (CPU build).
TESTED_TORCH = "2.13.0"
#: The numpy of the "Colab" test (what Colab ships); the kit's own environment gets the newest.
COLAB_NUMPY = "2.0.2"
#: The student environment on a laptop (kit.py setup) and on Binder: the wheel's needs, the tested
#: torch, and JupyterLab with what `kit.py check` runs notebooks with.
ENVIRONMENT_EXTRA = ("jupyterlab>=4.2,<5", "ipykernel>=6.29", "nbclient>=0.10", "nbformat>=5.9")
CELL_TIMEOUT_ENV = "RNN_KIT_CELL_TIMEOUT"
#: JupyterLab settings of the students' environments (also in the student kit.py): no news prompt.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
SETUP_LINE = re.compile(r"^KIT_WHEEL = None\b.*$", re.MULTILINE)
#: Lines of solution regions or hidden tests that the runtime helpers also hold, read and found to give
#: nothing away. A new such line stops the build until someone has read it and added it here.
GENERIC_LINES = frozenset({
    "V, H = vocab_size, hidden_size",   # a4's count_parameters; helpers.pretrained.param_shapes (shapes only)
    # a1's reference keeps its own copy of the graded API's names: a hidden test must not read a constant
    # that a submission can rebind in helpers.
    'PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")',
    # a1's and a2's references keep their own copy of the graded API's shapes (helpers.pretrained.param_shapes).
    'return {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}',
})
# Bare returns, seeding, empty starts, loops over a dict's items and except clauses say nothing about an
# answer (nor do imports, which says_something leaves out already).
TRIVIAL_LINE = re.compile(r"^(?:return (?:\w+|True|False|None)|pass"
                          r"|(?:np\.random\.seed|torch\.manual_seed|random\.seed)\(\w+\)|(?:return |\w+ = )np\.random\.default_rng\(\w+\)"
                          r"|\w+ = (?:\[\]|\{\}|\(\)|None|0|0\.0)|for \w+, \w+ in \w+\.items\(\):"
                          r"|except [\w.]+(?: as \w+)?:)$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# Wheels and zips with fixed timestamps: the same kit gives the same bytes.
EPOCH = (2020, 1, 1, 0, 0, 0)


class KitError(RuntimeError):
    """The kit cannot be built; the message says what to do. Nothing was written."""


@dataclass
class Publish:
    """Where the kit will be published, and the addresses that follow from it."""

    base: str | None = None  # the URL of the kit folder's files, ending in "/"
    github: str | None = None
    branch: str = "main"

    @classmethod
    def make(cls, publish_url: str | None, github: str | None, branch: str = "main") -> "Publish":
        if publish_url and github:
            raise KitError("give --publish-url or --github, not both")
        if github:
            if not GITHUB_REPO.match(github):
                raise KitError(f"--github {github!r} is not OWNER/REPO (e.g. --github my-university/rnn-course)")
            if not re.match(r"^[A-Za-z0-9._/-]+$", branch) or ".." in branch:
                raise KitError(f"--branch {branch!r} is not a branch name")
            return cls(f"https://raw.githubusercontent.com/{github}/{branch}/", github, branch)
        if publish_url:
            if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", publish_url):
                raise KitError(f"--publish-url {publish_url!r} is not a web address such as "
                               "https://example.org/rnn-kit/ (http or https, no query)")
            return cls(publish_url.rstrip("/") + "/")
        return cls()

    def wheel_url(self, wheel: str) -> str | None:
        return f"{self.base}wheels/{wheel}" if self.base else None

    def file_url(self, relative: str) -> str | None:
        if self.github:
            return f"https://github.com/{self.github}/blob/{self.branch}/{relative}"
        return f"{self.base}{relative}" if self.base else None

    def colab_url(self, relative: str) -> str | None:
        if not self.github:
            return None
        return f"https://colab.research.google.com/github/{self.github}/blob/{self.branch}/{relative}"

    def binder_url(self, relative: str = "notebooks") -> str | None:
        if not self.github:
            return None
        return f"https://mybinder.org/v2/gh/{self.github}/{self.branch}?urlpath=lab/tree/{relative}"


@dataclass
class KitBuild:
    folder: Path
    zip: Path
    wheel: Path
    assignments: list[str]
    notes: list[str] = field(default_factory=list)


def _instructor():
    from helpers import instructor  # the package's public names (assignments, notebook_names, ...)
    return instructor


def project_version(root: Path = COURSE_ROOT) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _normal_version(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion:
        raise KitError(f"--kit-version {version!r} is not a version number such as 0.1.0 or 2026.2") from None
    if parsed.local:
        raise KitError(f"--kit-version {version!r}: leave out the local part (+{parsed.local})")
    return str(parsed)


def kit_folder_name(version: str) -> str:
    return KIT_FOLDER.format(version=_normal_version(version))


def wheel_name(version: str) -> str:
    return f"{WHEEL_DIST}-{_normal_version(version)}-py3-none-any.whl"


# --------------------------------------------------------------------------------------------
# What must never reach students


def telling(line: str) -> bool:
    """A secret line worth looking for in the kit: one that says something, not generic, not trivial."""
    return says_something(line) and line not in GENERIC_LINES and not TRIVIAL_LINE.match(line)


def _released_lines(paths) -> set[str]:
    return {line.strip() for path in paths for cell in nbformat.read(path, as_version=4).cells
            for line in cell.source.splitlines()}


def _texts(name: str, data: bytes, depth: int = 0):
    """(name, text) of a file and, for zip archives (wheels, torch files), of each member; JSON
    (notebooks, expected values) is also given decoded, since escaping hides lines."""
    yield name, data.decode("utf-8", errors="replace")
    if name.endswith((".ipynb", ".json")):
        try:
            decoded = json.loads(data)
        except ValueError:
            decoded = None
        if decoded is not None:
            yield name + " (decoded)", "\n".join(_strings(decoded))
    if depth < 3 and data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield from _texts(f"{name}!{member}", archive.read(member), depth + 1)
        except zipfile.BadZipFile:
            pass


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def instructor_path(name: str) -> bool:
    """Whether a file name (or an archive member's) is instructor material by its place."""
    parts = tuple(p for p in name.replace("!", "/").split("/") if p)
    if "solutions" in parts or (parts and parts[-1] == "nbgrader_config.py"):
        return True
    after = parts[parts.index("helpers") + 1:] if "helpers" in parts else ()
    return any(p.startswith("instructor") or p in ("grading_preprocessors.py", "student_kit_files") for p in after)


def leaks(files: dict[str, bytes], secret: set[str], solution_files: dict[bytes, str]) -> list[str]:
    """What in `files` (name -> bytes; archives are opened) gives away an answer, a hidden test or an
    instructor file: its place, the solution markers, a secret line, or the bytes of a file of solutions/."""
    problems = []
    for name, data in sorted(files.items()):
        digest = hashlib.sha256(data).digest()
        if digest in solution_files:
            problems.append(f"{name}: the same bytes as {solution_files[digest]}")
        for text_name, text in _texts(name, data):
            if instructor_path(text_name.removesuffix(" (decoded)")):
                problems.append(f"{text_name}: an instructor file")
            found = [m for m in MARKERS if m in text]
            if found:
                problems.append(f"{text_name}: contains {found[0]!r}")
            shown = sorted(secret & {line.strip() for line in text.splitlines()})
            if shown:
                problems.append(f"{text_name}: {len(shown)} solution or hidden-test lines, e.g. {shown[0]!r}")
    return sorted(set(problems))


# --------------------------------------------------------------------------------------------
# The parts of the kit


def _checksum(cell) -> str:
    from nbgrader.utils import compute_checksum

    return compute_checksum(cell)


def _notebook_record(nb, assignment: str, name: str) -> dict:
    """What the student kit.py needs to tell a notebook, its tests and its answers apart."""
    record = {"assignment": assignment, "notebook": name, "path": f"notebooks/{assignment}/{name}.ipynb",
              "tests": [], "exercises": [], "locked": []}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta:
            continue
        if meta.get("solution"):
            record["exercises"].append({"id": meta["grade_id"], "type": cell.cell_type, "released": cell.source})
        elif meta.get("grade") and cell.cell_type == "code":
            record["tests"].append({"id": meta["grade_id"], "points": float(meta["points"]),
                                    "checksum": _checksum(cell)})
        elif meta.get("locked") or meta.get("grade"):
            record["locked"].append({"id": meta["grade_id"], "checksum": _checksum(cell)})
    return record


def _fill_setup_cell(text: str, url: str | None, where: str) -> str:
    """The notebook (as text) with the set-up cell's `KIT_WHEEL = None` line set to `url`."""
    nb = nbformat.reads(text, as_version=4)
    hits = [cell for cell in nb.cells if cell.cell_type == "code" and SETUP_LINE.search(cell.source)]
    if len(hits) != 1:
        raise KitError(f"{where}: {'no' if not hits else len(hits)} set-up cells (a code cell with the line "
                       "`KIT_WHEEL = None`); every notebook needs exactly one: add it in solutions/ and run "
                       "`python3 kit.py release`")
    if url is not None:
        hits[0].source = SETUP_LINE.sub(lambda _: f'KIT_WHEEL = "{url}"  # where this kit\'s helpers are published',
                                        hits[0].source)
    return nbformat.writes(nb) + "\n"


def _wheel(version: str, files: dict[str, bytes], requirements) -> tuple[str, bytes]:
    """A pure-Python wheel (PEP 427) holding `files` (archive name -> bytes)."""
    version = _normal_version(version)
    dist_info = f"{WHEEL_DIST}-{version}.dist-info"
    metadata = (f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {version}\n"
                "Summary: Helpers of the course Recurrent networks from the inside (student kit)\n"
                f"Requires-Python: {PYTHON_REQUIRES}\n" + "".join(f"Requires-Dist: {r}\n" for r in requirements))
    generator = "Wheel-Version: 1.0\nGenerator: rnn-kit student-kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    members = dict(sorted(files.items()))
    members[f"{dist_info}/METADATA"] = metadata.encode()
    members[f"{dist_info}/WHEEL"] = generator.encode()
    members[f"{dist_info}/top_level.txt"] = b"helpers\n"
    record = []
    for name, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return f"{WHEEL_DIST}-{version}-py3-none-any.whl", buffer.getvalue()


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_dir():
                continue
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", EPOCH)
            info.external_attr = (stat.S_IFREG | (0o755 if os.access(path, os.X_OK) else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def _environment_yml(requirements) -> str:
    lines = "".join(f"      - {r}\n" for r in requirements)
    return ("# Conda environment of the student kit. Binder builds from it, then runs postBuild (the course's\n"
            "# helpers and the data). On your own computer: `conda env create -f environment.yml`, then\n"
            "# `conda activate rnn-course-kit-student` and `pip install --no-deps wheels/*.whl`.\n"
            "name: rnn-course-kit-student\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n"
            "  - pip:\n      - --extra-index-url https://download.pytorch.org/whl/cpu\n" + lines)


def _post_build(wheel: str) -> str:
    return ("#!/bin/bash\n# Binder runs this once, after installing environment.yml: the course's helpers, then the\n"
            "# data (checked against data/manifest.json).\nset -euo pipefail\n"
            f"pip install --no-deps wheels/{wheel}\npython -m helpers.data fetch --quiet\n"
            "# No \"Jupyter news?\" prompt and no update check in JupyterLab (as kit.py setup does).\n"
            "python - <<'EOF'\nimport json, pathlib, sys\n"
            "path = pathlib.Path(sys.prefix, 'share', 'jupyter', 'lab', 'settings', 'overrides.json')\n"
            "path.parent.mkdir(parents=True, exist_ok=True)\n"
            "current = json.loads(path.read_text()) if path.is_file() else {}\n"
            f"current.update({LAB_OVERRIDES!r})\n"
            "path.write_text(json.dumps(current, indent=1))\nEOF\n")


GITIGNORE = """\
.venv/
__pycache__/
.ipynb_checkpoints/
submissions/
data/*
!data/manifest.json
!data/README.md
notebooks/**/*.npz
notebooks/**/*.pt
"""


def _readme(version: str, records: list[dict], titles: dict[str, str], publish: Publish, wheel: str,
            numpy_tested: list[str]) -> str:
    template = string.Template((FILES / "README.md").read_text(encoding="utf-8"))
    rows = []
    for number, record in enumerate(records):
        path = record["path"]
        links = []
        if publish.colab_url(path):
            links.append(f"[Open in Colab]({publish.colab_url(path)})")
        if publish.file_url(path):
            links.append(f"[file]({publish.file_url(path)})")
        rows.append(f"| {record['assignment'].split('_', 1)[0][1:]} | {titles.get(path, record['notebook'])} "
                    f"| `{path}` | {' · '.join(links) or '—'} |")
    if publish.github:
        where = (f"Nothing to install, nothing saved: [launch the course on Binder]({publish.binder_url()}). "
                 "It starts in a minute or two; download your notebooks before you close the tab.")
        colab = ("Click *Open in Colab* in the table above, then *File > Save a copy in Drive* so that your "
                 "work is kept.")
    elif publish.base:
        where = "Binder needs the kit in a GitHub repository; ask your instructor if you want to use it."
        colab = ("Download the notebook (the *file* link in the table above) and open it in Colab with "
                 "*File > Upload notebook*.")
    else:
        where = colab = "This kit was built for local use only: use it on your own computer."
    example = records[1] if len(records) > 1 else records[0]  # the first after the welcome notebook
    return template.substitute(version=version, table="\n".join(rows), binder=where, colab=colab,
                           torch=TESTED_TORCH, numpy=" and ".join(numpy_tested), wheel=wheel,
                           wheel_url=publish.wheel_url(wheel) or f"wheels/{wheel}",
                           example=example["path"], example_id=example["assignment"],
                           example_name=example["notebook"],
                           requirements=", ".join(f"`{r}`" for r in WHEEL_REQUIREMENTS))


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


# --------------------------------------------------------------------------------------------
# The build


def build(assignments: list[str], *, root: Path = COURSE_ROOT, out: Path | None = None,
          publish_url: str | None = None, github: str | None = None, branch: str = "main",
          version: str | None = None, quiet: bool = False) -> KitBuild:
    """Build the student kit of `assignments` into `out` (default dist/student-kit/)."""
    instructor = _instructor()
    root = Path(root)
    out = Path(out or root / "dist" / "student-kit")
    publish = Publish.make(publish_url, github, branch)
    version = _normal_version(version or project_version(root))
    known = instructor.assignments(root)
    if not assignments:
        raise KitError("name the assignments to put in the kit (those released so far), or give --all; "
                       f"the course has {', '.join(known)}")
    unknown = [a for a in assignments if a not in known]
    if unknown:
        raise KitError(f"unknown assignment {', '.join(map(repr, unknown))}: the course has {', '.join(known)}")
    chosen = [a for a in known if a in assignments]  # course order, no repeats
    notes: list[str] = []

    # Everything is read and checked first; nothing is written until the kit is complete.
    notebooks: dict[str, str] = {}   # kit path -> notebook text
    records, titles = [], {}
    wheel = wheel_name(version)
    for assignment in chosen:
        prefix = instructor.expected_prefix(assignment)
        if not (root / "helpers" / "expected" / f"{prefix}.json").is_file():
            raise KitError(f"{assignment} has no expected values (helpers/expected/{prefix}.json): run "
                           f"`python3 kit.py release {assignment}` first")
        for name in instructor.notebook_names(root, assignment):
            released = root / "notebooks" / assignment / f"{name}.ipynb"
            if not released.is_file():
                raise KitError(f"{assignment} is not released ({released} is missing): run "
                               f"`python3 kit.py release {assignment}` first")
            where = f"notebooks/{assignment}/{name}.ipynb"
            text = _fill_setup_cell(released.read_text(encoding="utf-8"), publish.wheel_url(wheel), where)
            nb = nbformat.reads(text, as_version=4)
            if any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in nb.cells):
                raise KitError(f"{where} holds outputs: run `python3 kit.py release {assignment}` again")
            source_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(
                root / "solutions" / assignment / f"{name}.ipynb", as_version=4).cells} - {None}
            released_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
            if source_ids != released_ids:
                raise KitError(f"{where} is out of date (its cells differ from solutions/): run "
                               f"`python3 kit.py release {assignment}`")
            notebooks[where] = text
            records.append(_notebook_record(nb, assignment, name))
            titles[where] = _title(nb)
    if publish.base is None:
        notes.append("no --publish-url or --github: the notebooks cannot install the helpers on Colab, Binder "
                     "or a JupyterHub; the kit works on students' own computers only")

    # Later notebooks that show an earlier assignment's solution lines.
    solution_secrets = {a: secret_lines(root, a, ("SOLUTION",), telling) for a in known}
    for assignment in chosen:
        shown = _released_lines((root / "notebooks" / assignment).glob("*.ipynb"))
        for earlier in known[:known.index(assignment)]:
            count = len(solution_secrets[earlier] & shown)
            if count:
                together = earlier in chosen
                notes.append(f"{assignment} shows {count} solution lines of {earlier} (on purpose: it builds on "
                             f"it); {'this kit gives them away together: ' if together else ''}publish {assignment} "
                             f"only after {earlier}'s deadline")

    helpers_dir = root / "helpers"
    package: dict[str, bytes] = {}
    for module in RUNTIME_MODULES:
        package[f"helpers/{module}"] = (helpers_dir / module).read_bytes()
    for assignment in chosen:
        prefix = instructor.expected_prefix(assignment)
        package[f"helpers/expected/{prefix}.json"] = (helpers_dir / "expected" / f"{prefix}.json").read_bytes()
    for weights in sorted((helpers_dir / "weights").iterdir()):
        if weights.is_file() and not weights.name.startswith("."):
            package[f"helpers/weights/{weights.name}"] = weights.read_bytes()
    _check_imports(notebooks, package)

    manifest = (root / "data" / "manifest.json").read_bytes()
    wheel_files = {path: data for path, data in package.items()
                   if path.removeprefix("helpers/") not in KIT_ONLY_MODULES}
    wheel_files["helpers/manifest.json"] = manifest  # the wheel has no data/ folder beside it
    requirements = list(WHEEL_REQUIREMENTS)
    wheel, wheel_bytes = _wheel(version, wheel_files, requirements)
    environment = list(WHEEL_REQUIREMENTS[:-1]) + [f"torch=={TESTED_TORCH}"] + list(ENVIRONMENT_EXTRA)
    import numpy

    numpy_tested = sorted({COLAB_NUMPY, numpy.__version__}, key=lambda v: tuple(int(p) for p in v.split(".")[:3]))
    kit_json = {"format": 1, "kit_version": version, "python_requires": PYTHON_REQUIRES,
                "torch": f"torch=={TESTED_TORCH}", "requirements": environment,
                "cell_timeout": int(os.environ.get(CELL_TIMEOUT_ENV, "60")), "notebooks": records}
    files: dict[str, bytes] = {path: text.encode("utf-8") for path, text in notebooks.items()}
    files.update(package)
    files.update({
        "data/manifest.json": manifest,
        "data/README.md": (root / "data" / "README.md").read_bytes(),
        "kit.py": (FILES / "kit.py").read_bytes(),
        ".kit/kit.json": (json.dumps(kit_json, indent=1, ensure_ascii=False) + "\n").encode("utf-8"),
        "README.md": _readme(version, records, titles, publish, wheel, numpy_tested).encode("utf-8"),
        "environment.yml": _environment_yml(environment).encode("utf-8"),
        "postBuild": _post_build(wheel).encode("utf-8"),
        ".gitignore": GITIGNORE.encode("utf-8"),
        f"wheels/{wheel}": wheel_bytes,
    })

    # Nothing of solutions/: no answer, no hidden test, no instructor file.
    secret = set()
    for assignment in chosen:
        secret |= secret_lines(root, assignment, keep=telling)
    secret -= {line.strip() for text in notebooks.values()  # what the kit's notebooks show on purpose
               for cell in nbformat.reads(text, as_version=4).cells for line in cell.source.splitlines()}
    solution_files = {hashlib.sha256(p.read_bytes()).digest(): str(p.relative_to(root))
                      for p in (root / "solutions").rglob("*") if p.is_file()}
    problems = leaks(files, secret, solution_files)
    if problems:
        raise KitError("the kit would give away instructor material; nothing was written:\n  - "
                       + "\n  - ".join(problems[:20]))

    out.mkdir(parents=True, exist_ok=True)
    folder_name = kit_folder_name(version)
    with tempfile.TemporaryDirectory(prefix=".building-", dir=out) as scratch:
        staged = Path(scratch) / folder_name
        for relative, data in files.items():
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for executable in ("kit.py", "postBuild"):
            (staged / executable).chmod(0o755)
        _zip(staged, Path(scratch) / f"{folder_name}.zip")
        (Path(scratch) / wheel).write_bytes(wheel_bytes)
        final = out / folder_name
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)
        os.replace(Path(scratch) / f"{folder_name}.zip", out / f"{folder_name}.zip")
        os.replace(Path(scratch) / wheel, out / wheel)
    build_ = KitBuild(out / folder_name, out / f"{folder_name}.zip", out / wheel, chosen, notes)
    if not quiet:
        print(f"student kit {version} with {', '.join(chosen)}:\n  {build_.folder}\n  {build_.zip}\n  {build_.wheel}")
        if publish.base:
            print(f"publish the folder's files at {publish.base} (the notebooks install {publish.wheel_url(wheel)})")
        for note in notes:
            print(f"note: {note}")
    return build_


def _check_imports(notebooks: dict[str, str], package: dict[str, bytes]) -> None:
    """Every `helpers.X` the notebooks import is in the kit."""
    wanted = set()
    for path, text in notebooks.items():
        for cell in nbformat.reads(text, as_version=4).cells:
            if cell.cell_type == "code":
                for match in re.finditer(r"^\s*(?:from|import)\s+helpers\.(\w+)", cell.source, re.MULTILINE):
                    wanted.add((match.group(1), path))
    missing = sorted({(m, p) for m, p in wanted if f"helpers/{m}.py" not in package})
    if missing:
        raise KitError("the notebooks import helpers modules that are not in the student kit: "
                       + ", ".join(f"helpers.{m} ({p})" for m, p in missing)
                       + "; add the module to RUNTIME_MODULES in helpers/instructor/student_kit.py if students "
                         "may have it")


# --------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("assignments", nargs="*", help="the assignments to put in the kit: those released to "
                        "students so far (a later notebook shows earlier answers)")
    parser.add_argument("--all", action="store_true", help="every assignment of the course (gives early answers "
                        "away inside later notebooks: see above)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--publish-url", metavar="URL", help="web folder where the kit's files will be served "
                       "(the notebooks install URL/wheels/<wheel>)")
    where.add_argument("--github", metavar="OWNER/REPO", help="GitHub repository that will hold the kit folder "
                       "(gives Colab and Binder links)")
    parser.add_argument("--branch", default="main", help="the repository's branch (with --github; default main)")
    parser.add_argument("--kit-version", metavar="VERSION", help="version of the kit and its wheel (default: "
                        "pyproject.toml's); give each published build its own")
    parser.add_argument("--out", type=Path, help="where to write (default dist/student-kit/)")


def run(args: argparse.Namespace) -> int:
    root = Path(getattr(args, "course", None) or COURSE_ROOT).resolve()
    try:
        if args.all and args.assignments:
            raise KitError("give assignment names or --all, not both")
        chosen = _instructor().assignments(root) if args.all else args.assignments
        build(chosen, root=root, out=args.out, publish_url=args.publish_url, github=args.github,
              branch=args.branch, version=args.kit_version)
    except KitError as err:
        print(f"rnn-kit student-kit: {err}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnn-kit student-kit")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
