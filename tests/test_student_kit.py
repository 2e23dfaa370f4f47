"""The student kit: one instructor command builds it from the release; it holds the course and
none of the answers; unpacked in a fresh folder it sets itself up with its README's commands and
runs every notebook; on a Colab-like machine a notebook installs the helpers from where the kit
is published and fetches the data; `check` and `submit` say what is wrong, and a submitted file
is imported and graded by the instructor's commands.

The kits are built once per module, and the heavy parts (a fresh virtual environment for the
kit, another for "Colab") once each; the slow tests share them in one xdist group.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from catalogue import MUTATIONS
from helpers import COURSE_ROOT, instructor
from helpers.instructor import student_kit as SK
from submissions import autograded_points, fill_release, solution_sources

ASSIGNMENTS = instructor.assignments()
A1 = "a1_rnn_forward"
MIRROR = Path(os.environ.get("RNN_KIT_MIRROR") or COURSE_ROOT.parent / "shared" / "data")
# The first assignments alone: what a kit released in week one holds.
EARLY = ["a0_welcome", "a1_rnn_forward"]
# Import names of the notebooks and helpers -> the distribution that provides them.
DISTRIBUTION = {"IPython": "ipython"}


# ------------------------------------------------------------------------------------------
# Servers on 127.0.0.1: the place the kit is published, and a web copy of the data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python -m http.server` serving a folder on 127.0.0.1."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder.parent / f"http-{self.port}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                      "--directory", str(folder)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"http.server did not start on {self.url}")
                time.sleep(0.2)

    def requests(self) -> str:
        self.log.flush()
        return (self.folder.parent / f"http-{self.port}.log").read_text()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = Server(_folder(tmp_path_factory, "site"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def data_site(tmp_path_factory):
    assert (MIRROR / "tinyshakespeare" / "input.txt").is_file(), f"no data mirror at {MIRROR}: set RNN_KIT_MIRROR"
    server = Server(MIRROR)
    yield server
    server.stop()


def _folder(tmp_path_factory, name: str) -> Path:
    folder = tmp_path_factory.mktemp(name) / "www"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def kit(site) -> SK.KitBuild:
    """Every assignment, published where `site` serves it."""
    version = SK.project_version()
    return SK.build(ASSIGNMENTS, out=site.folder, version=version, quiet=True,
                    publish_url=f"{site.url}/{SK.kit_folder_name(version)}/")


@pytest.fixture(scope="module")
def early_kit(tmp_path_factory) -> SK.KitBuild:
    return SK.build(EARLY, out=tmp_path_factory.mktemp("early"), github="example-university/rnn-course",
                    version="2026.1", quiet=True)


def _archive(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}


def _load_student_kit_py(folder: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"student_kit_py_{abs(hash(str(folder)))}", folder / "kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------
# What the kit holds


def test_kit_layout(kit, course_root):
    folder = kit.folder
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    released = {p.relative_to(course_root).as_posix() for p in (course_root / "notebooks").glob("*/*.ipynb")}
    assert {n for n in names if n.startswith("notebooks/")} == released
    helpers = {n for n in names if n.startswith("helpers/")}
    assert {n for n in helpers if n.count("/") == 1} == {f"helpers/{m}" for m in SK.RUNTIME_MODULES}
    assert {n for n in helpers if n.startswith("helpers/expected/")} == \
        {f"helpers/expected/{instructor.expected_prefix(a)}.json" for a in ASSIGNMENTS}
    assert {n for n in helpers if n.startswith("helpers/weights/")} == \
        {f"helpers/weights/{p.name}" for p in (course_root / "helpers" / "weights").iterdir() if p.is_file()}
    for name in ("data/manifest.json", "data/README.md", "kit.py", ".kit/kit.json", "environment.yml", "postBuild",
                 "README.md", ".gitignore", f"wheels/{kit.wheel.name}"):
        assert name in names, f"the kit lacks {name}"
    assert (folder / "data" / "manifest.json").read_bytes() == (course_root / "data" / "manifest.json").read_bytes()
    # The zip is the folder (one top folder, the same bytes); the wheel beside it is the kit's.
    archive = _archive(kit.zip)
    assert {n.split("/", 1)[1] for n in archive} == names
    assert all(archive[f"{folder.name}/{n}"] == (folder / n).read_bytes() for n in names)
    assert kit.wheel.read_bytes() == (folder / "wheels" / kit.wheel.name).read_bytes()
    assert os.access(folder / "kit.py", os.X_OK) and os.access(folder / "postBuild", os.X_OK)


def test_kit_notebooks_are_the_release_with_the_wheels_address(kit, course_root):
    wheel_url = f"{kit.folder.name}/wheels/{kit.wheel.name}"
    for path in sorted((course_root / "notebooks").glob("*/*.ipynb")):
        relative = path.relative_to(course_root)
        ours, theirs = (nbformat.read(p, as_version=4) for p in (kit.folder / relative, path))
        assert len(ours.cells) == len(theirs.cells)
        differ = [(a, b) for a, b in zip(ours.cells, theirs.cells) if a != b]
        assert len(differ) == 1, f"{relative}: {len(differ)} cells differ from the release (only the set-up cell may)"
        cell, released = differ[0]
        assert "KIT_WHEEL = None" in released.source and "nbgrader" not in released.metadata
        assert re.search(r'^KIT_WHEEL = "http://127\.0\.0\.1:\d+/' + re.escape(wheel_url) + '"', cell.source, re.M), \
            cell.source
        wheel_line = re.compile(r"^KIT_WHEEL = .*$", re.M)
        assert wheel_line.sub("", cell.source) == wheel_line.sub("", released.source)


def _contents(name: str, data: bytes, depth: int = 0):
    """(name, text) of a file, its JSON strings decoded, and of every member of an archive in it."""
    yield name, data.decode("utf-8", errors="replace")
    if name.endswith((".ipynb", ".json")):
        def strings(value):
            if isinstance(value, str):
                yield value
            elif isinstance(value, (list, dict)):
                for item in (value.values() if isinstance(value, dict) else value):
                    yield from strings(item)
        yield name + " (JSON strings)", "\n".join(strings(json.loads(data)))
    if data[:4] == b"PK\x03\x04" and depth < 3:
        for member, inner in _archive(io.BytesIO(data)).items():
            yield from _contents(f"{name}!{member}", inner, depth + 1)


def _given_away(archive: Path, secret: set[str], solution_files: dict[bytes, str]) -> list[str]:
    found = []
    for name, data in _archive(archive).items():
        if hashlib.sha256(data).digest() in solution_files:
            found.append(f"{name}: a copy of {solution_files[hashlib.sha256(data).digest()]}")
        for where, text in _contents(name, data):
            parts = re.split(r"[/!]", where)
            if "solutions" in parts or "nbgrader_config.py" in parts or any(
                    p.startswith("instructor") or p in ("grading_preprocessors.py", "student_kit_files") for p in parts):
                found.append(f"{where}: instructor file")
            found += [f"{where}: {line!r}" for line in sorted(secret & {x.strip() for x in text.splitlines()})]
            for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
                if marker in text:
                    found.append(f"{where}: {marker}")
    return found


def _solution_files(course_root) -> dict[bytes, str]:
    return {hashlib.sha256(p.read_bytes()).digest(): str(p) for p in (course_root / "solutions").rglob("*")
            if p.is_file()}


def _shown(archive: Path) -> set[str]:
    """Every line of the kit's notebooks: what it shows on purpose."""
    return {line.strip() for name, data in _archive(archive).items() if name.endswith(".ipynb")
            for cell in nbformat.reads(data.decode(), as_version=4).cells for line in cell.source.splitlines()}


def test_kit_gives_no_answer_and_no_hidden_test_away(kit, early_kit, course_root):
    """The zips and wheels, decompressed (the wheel inside the zip, the torch file inside the wheel):
    no file of solutions/, no instructor module, and no line of a solution region or hidden test,
    except lines that the kit's own notebooks show (a later notebook re-gives earlier answers on
    purpose; a hidden test may share a line such as `with torch.no_grad():` with visible code)."""
    solution_files = _solution_files(course_root)
    hidden = set().union(*(instructor.secret_lines(course_root, a, ("HIDDEN TESTS",), SK.telling) for a in ASSIGNMENTS))
    solutions = set().union(*(instructor.secret_lines(course_root, a, keep=SK.telling) for a in ASSIGNMENTS))
    shown = _shown(kit.zip)
    assert len((solutions | hidden) - shown) > 10 * len((solutions | hidden) & shown), \
        "most solution and hidden-test lines must be searched for"
    for archive in (kit.zip, kit.wheel):
        found = _given_away(archive, (solutions | hidden) - shown, solution_files)
        assert not found, f"{archive.name} gives away:\n" + "\n".join(found[:20])
    # A kit of the first assignments holds back every line of their answers, and nothing later is in it.
    early = set().union(*(instructor.secret_lines(course_root, a, keep=SK.telling) for a in EARLY))
    for archive in (early_kit.zip, early_kit.wheel):
        found = _given_away(archive, early | (hidden - _shown(early_kit.zip)), solution_files)
        assert not found, f"{archive.name} gives away:\n" + "\n".join(found[:20])
        names = set(_archive(archive))
        later = [n for n in names for a in ASSIGNMENTS[2:] if a in n or f"/{instructor.expected_prefix(a)}.json" in n]
        assert not later, f"{archive.name} holds later assignments: {later}"


def test_the_search_finds_what_it_looks_for(tmp_path, course_root):
    """The search above on a zip with planted leaks: a file of solutions/, an instructor module inside a
    wheel, a hidden-test line inside a notebook's JSON, an answer line in a helper."""
    solution = next((course_root / "solutions" / A1).glob("*.ipynb"))
    hidden = sorted(instructor.secret_lines(course_root, A1, ("HIDDEN TESTS",), SK.telling))[0]
    answer = sorted(instructor.secret_lines(course_root, A1, keep=SK.telling))[0]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("helpers/instructor/grading.py", "print()")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = 1\n    {hidden}\n")])
    archive = tmp_path / "planted.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("kit/notes.ipynb", solution.read_bytes())
        zf.writestr("kit/wheels/w.whl", inner.getvalue())
        zf.writestr("kit/notebooks/n.ipynb", nbformat.writes(nb))
        zf.writestr("kit/helpers/extra.py", f"def f():\n    {answer}\n")
    found = "\n".join(_given_away(archive, {hidden, answer}, _solution_files(course_root)))
    assert f"kit/notes.ipynb: a copy of {solution}" in found
    assert "kit/wheels/w.whl!helpers/instructor/grading.py: instructor file" in found
    assert f"kit/notebooks/n.ipynb (JSON strings): {hidden!r}" in found
    assert f"kit/helpers/extra.py: {answer!r}" in found


def test_the_lines_let_through_are_few_and_in_the_helpers(course_root):
    """GENERIC_LINES (lines of answers or hidden tests that the helpers also hold) is read by a person:
    it stays short, and each entry is a line of a runtime helper and of a solution or hidden test."""
    assert len(SK.GENERIC_LINES) <= 5
    helpers = {line.strip() for m in SK.RUNTIME_MODULES for line in (course_root / "helpers" / m).read_text().splitlines()}
    regions = set().union(*(instructor.secret_lines(course_root, a) for a in ASSIGNMENTS))
    for line in SK.GENERIC_LINES:
        assert line in helpers and line in regions, f"{line!r}: not a line both of the helpers and of an answer"


def test_build_names_later_notebooks_that_show_earlier_answers(kit, early_kit):
    assert any(n.startswith("a3_sampling shows") and "a1_rnn_forward" in n and "gives them away together" in n
               for n in kit.notes), kit.notes
    assert not any("shows" in n for n in early_kit.notes), early_kit.notes


def test_wheel_needs_what_the_notebooks_import_and_pins_nothing(kit):
    archive = _archive(kit.wheel)
    metadata = next(v for k, v in archive.items() if k.endswith(".dist-info/METADATA")).decode()
    required = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    assert required, metadata
    for requirement in required:
        assert not re.search(r"===?|~=|<", requirement), f"{requirement}: floors only, nothing pinned"
    names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in required}
    imported = set()
    code = [data.decode() for name, data in archive.items() if name.endswith(".py") and name.startswith("helpers/")]
    # kit.py check's kernels (jupyter_client) are the unpacked kit's, not the wheel's
    assert "helpers/kernels.py" not in archive and "helpers/checks.py" in archive
    for name, data in _archive(kit.zip).items():
        if name.endswith(".ipynb"):
            code += [c.source for c in nbformat.reads(data.decode(), as_version=4).cells if c.cell_type == "code"]
    for text in code:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {DISTRIBUTION.get(m, m).lower() for m in imported - set(sys.stdlib_module_names) - {"helpers"}}
    assert names == third_party, f"required but not imported: {names - third_party}; imported but not required: " \
                                 f"{third_party - names}"
    assert "torch" in names and "numpy" in names
    # pip checks the RECORD: every file with its sha256.
    assert "helpers/manifest.json" in archive and "helpers/expected/a1.json" in archive


def test_student_kit_py_needs_only_the_standard_library(kit):
    proc = subprocess.run([sys.executable, "-I", "-S", str(kit.folder / "kit.py"), "--help"],
                          capture_output=True, text=True, cwd=kit.folder)
    assert proc.returncode == 0, proc.stderr
    for command in ("setup", "lab", "data", "check", "submit"):
        assert f"python3 kit.py {command}" in proc.stdout


def test_student_checksums_are_nbgraders(kit):
    from nbgrader.utils import compute_checksum

    student = _load_student_kit_py(kit.folder)
    compared = 0
    for path in sorted((kit.folder / "notebooks").glob("*/*.ipynb")):
        raw = json.loads(path.read_text())
        for cell, node in zip(raw["cells"], nbformat.read(path, as_version=4).cells):
            if "nbgrader" in node.metadata:
                assert student.checksum(cell) == compute_checksum(node), f"{path.name} {node.metadata.nbgrader}"
                compared += 1
    assert compared > 100


def test_readme_links_and_versions(kit, early_kit):
    readme = (early_kit.folder / "README.md").read_text()
    colab = "https://colab.research.google.com/github/example-university/rnn-course/blob/main/notebooks/"
    assert f"[Open in Colab]({colab}a1_rnn_forward/rnn_forward.ipynb)" in readme
    assert "https://mybinder.org/v2/gh/example-university/rnn-course/main?urlpath=lab/tree/notebooks" in readme
    assert "a2_rnn_backprop" not in readme
    assert f"PyTorch {SK.TESTED_TORCH}" in readme and SK.COLAB_NUMPY in readme
    assert "${" not in readme and "${" not in (kit.folder / "README.md").read_text()
    early_notebook = nbformat.read(early_kit.folder / "notebooks" / A1 / "rnn_forward.ipynb", as_version=4)
    assert ('KIT_WHEEL = "https://raw.githubusercontent.com/example-university/rnn-course/main/wheels/'
            'rnn_course_kit_student-2026.1-py3-none-any.whl"') in "\n".join(c.source for c in early_notebook.cells)
    post_build = (kit.folder / "postBuild").read_text()
    assert f"pip install --no-deps wheels/{kit.wheel.name}" in post_build and "helpers.data fetch" in post_build


def test_bad_build_requests_are_refused_and_lose_nothing(tmp_path, early_kit):
    out = early_kit.folder.parent
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    cases = [
        (dict(assignments=["a9_nothing"]), "unknown assignment 'a9_nothing'"),
        (dict(assignments=[]), "or give --all"),
        (dict(assignments=EARLY, publish_url="ftp://example.org/kit"), "is not a web address"),
        (dict(assignments=EARLY, github="not a repo"), "is not OWNER/REPO"),
        (dict(assignments=EARLY, github="a/b", publish_url="https://example.org/"), "not both"),
        (dict(assignments=EARLY, version="one"), "is not a version number"),
    ]
    for kwargs, message in cases:
        assignments = kwargs.pop("assignments")
        kwargs.setdefault("version", "2026.1")
        with pytest.raises(SK.KitError, match=re.escape(message)):
            SK.build(assignments, out=out, quiet=True, **kwargs)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, "a refused build changed the kit already built"
    # The command line says the same, and exits 1.
    proc = subprocess.run([sys.executable, "-m", "helpers.instructor", "student-kit", "a9_nothing", "--out",
                           str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "unknown assignment 'a9_nothing'" in proc.stderr, proc.stderr
    assert not any(tmp_path.iterdir())


def test_build_refuses_a_notebook_without_the_set_up_cell(tmp_path, course_root):
    course = tmp_path / "course"
    for part in ("solutions/a1_rnn_forward", "notebooks/a1_rnn_forward", "helpers", "data"):
        shutil.copytree(course_root / part, course / part, ignore=shutil.ignore_patterns("__pycache__", "tinyshakespeare",
                                                                                          "chinese-poetry"))
    for name in ("pyproject.toml", "nbgrader_config.py"):
        shutil.copy2(course_root / name, course / name)
    path = course / "notebooks" / A1 / "rnn_forward.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "KIT_WHEEL" not in c.source]
    nbformat.write(nb, path)
    with pytest.raises(SK.KitError, match="no set-up cells"):
        SK.build([A1], root=course, out=tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_helpers_from_the_wheel_find_their_data_manifest_and_expected_values(kit, data_site, tmp_path):
    """Installed from the wheel there is no course folder: the manifest and the expected values come
    with the package, the data lives in the user's folder and is fetched (and checked) on first use."""
    site = tmp_path / "site"
    with zipfile.ZipFile(kit.wheel) as zf:
        zf.extractall(site)
    script = r'''
import json, os, sys
import helpers, helpers.data as D
from helpers.checks import check_expected, expected
from helpers.pretrained import load_char_rnn
assert helpers.course_folder() is None and D.fetch_on_use()
assert str(helpers.__file__).startswith(sys.argv[1]), helpers.__file__
out = {"manifest": str(D.MANIFEST_PATH), "data_dir": str(D.data_dir())}
text = D.load_shakespeare()
out["chars"] = len(text)
out["verified"] = len(D.verify("tinyshakespeare"))
params, vocab = load_char_rnn()
out["vocab"] = len(vocab)
check_expected("a1.softmax.small", expected("a1.softmax.small"))
os.environ["RNN_KIT_FETCH_ON_USE"] = "0"
try:
    D.load_tang("300")
except D.DataError as err:
    out["error"] = str(err)
print(json.dumps(out))
'''
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_KIT_")}
    env.update(PYTHONPATH=str(site), XDG_DATA_HOME=str(tmp_path / "xdg"), RNN_KIT_DATA_URL=data_site.url)
    proc = subprocess.run([sys.executable, "-c", script, str(site)], capture_output=True, text=True, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["manifest"] == str(site / "helpers" / "manifest.json")
    assert out["data_dir"] == str(tmp_path / "xdg" / "rnn-course-kit" / "data")
    assert out["chars"] == 1_115_394 and out["verified"] == 1 and out["vocab"] == 65
    assert "GET /tinyshakespeare/input.txt" in data_site.requests()
    assert "python -m helpers.data fetch" in out["error"] and "missing" in out["error"]


# ------------------------------------------------------------------------------------------
# The kit on a student's computer: a fresh folder, a fresh environment, the README's commands


def _plain_env(**extra) -> dict[str, str]:
    """The environment of a student's terminal: no course environment, no course settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RNN_KIT_", "VIRTUAL_ENV", "PYTHON"))}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(extra)
    return env


def _python3() -> str:
    """A plain python3 (3.11 or newer) outside the course environment, as a student has."""
    for candidate in (shutil.which("python3", path=_plain_env()["PATH"]), sys.executable):
        if candidate and subprocess.run([candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]).returncode == 0:
            return candidate
    raise AssertionError("no python3 >= 3.11")


def kit_py(folder: Path, *args: str, input: str | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([_python3(), str(folder / "kit.py"), *args], cwd=folder, capture_output=True, text=True,
                          env=_plain_env(RNN_KIT_MIRROR=str(MIRROR), RNN_KIT_NO_PROGRESS="1",
                                         OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"),
                          input=input if input is not None else "", timeout=timeout)


def _make_student(kit: SK.KitBuild, home: Path) -> Path:
    """The kit's zip unpacked in a fresh folder and set up with the README's first command."""
    with zipfile.ZipFile(kit.zip) as zf:
        zf.extractall(home)
    folder = home / kit.folder.name
    (folder / "kit.py").chmod(0o755)
    assert "python3 kit.py setup" in (folder / "README.md").read_text()
    proc = kit_py(folder, "setup")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return folder


def _make_colab(where: Path) -> Path:
    """A fresh environment with what Colab preinstalls (the kernel, numpy as Colab ships it, torch,
    matplotlib, scipy, tqdm, ipywidgets), and nothing of the course."""
    venv.EnvBuilder(with_pip=True).create(where / "env")
    python = where / "env" / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "ipykernel", f"numpy=={SK.COLAB_NUMPY}",
                           f"torch=={SK.TESTED_TORCH}", "matplotlib", "scipy", "tqdm", "ipywidgets"],
                          capture_output=True, text=True, env=_plain_env(), timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert subprocess.run([str(python), "-c", "import helpers"], capture_output=True, cwd=where,
                          env=_plain_env()).returncode != 0, "the Colab environment must not have the helpers"
    return where


@pytest.fixture(scope="module")
def environments(kit, tmp_path_factory) -> dict[str, Path]:
    """Both fresh environments, made side by side (each is mostly waiting for pip)."""
    with ThreadPoolExecutor(2) as pool:
        student = pool.submit(_make_student, kit, tmp_path_factory.mktemp("student"))
        colab = pool.submit(_make_colab, tmp_path_factory.mktemp("colab"))
        return {"student": student.result(), "colab": colab.result()}


@pytest.fixture(scope="module")
def student(environments) -> Path:
    return environments["student"]


def _in_student_env(folder: Path, code: str) -> str:
    python = folder / ".venv" / "bin" / "python"
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=folder / "notebooks",
                          env=_plain_env())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.slow
@pytest.mark.xdist_group("student_kit")
def test_setup_makes_an_environment_with_the_kits_helpers_and_the_data(student):
    info = json.loads(_in_student_env(student, "import json, helpers, helpers.data as D, numpy, torch; print(json.dumps("
                                               "[helpers.__file__, str(helpers.course_folder()), str(D.data_dir()), "
                                               "numpy.__version__, torch.__version__]))"))
    assert info[0] == str(student / "helpers" / "__init__.py") and info[1] == str(student)
    assert info[2] == str(student / "data") and (student / "data" / "tinyshakespeare" / "input.txt").is_file()
    assert info[4].split("+")[0] == SK.TESTED_TORCH
    readme = (student / "README.md").read_text()
    assert f"numpy {info[3]}" in readme or f"and {info[3]}" in readme, f"the README does not name numpy {info[3]}"
    # nbgrader is not needed by students, and not installed.
    assert _in_student_env(student, "import importlib.util; print(importlib.util.find_spec('nbgrader'))") == "None"
    assert kit_py(student, "setup").stdout.count("pip install") == 0, "a second setup must not reinstall"


def _solved(course_root: Path, folder: Path, assignment: str, mutation=None) -> list[Path]:
    """The kit's notebooks of an assignment with the solutions pasted into the `#your code#` cells,
    in work/ (as a student's own copies)."""
    written = []
    for release in sorted((folder / "notebooks" / assignment).glob("*.ipynb")):
        sources = solution_sources(course_root / "solutions" / assignment / release.name)
        if mutation is not None:
            sources = mutation.apply(sources)
        target = folder / "work" / assignment / release.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(fill_release(release, sources), target)
        written.append(target)
    return written


def _tests(folder: Path, notebook: Path) -> list[str]:
    return [c.metadata.nbgrader.grade_id for c in nbformat.read(notebook, as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]


@pytest.mark.slow
@pytest.mark.xdist_group("student_kit")
def test_every_notebook_passes_check_with_the_solutions_pasted_in(student, course_root):
    # a2 writes the model a3 and a4 then prefer: it runs alone, after them.
    first = [a for a in ASSIGNMENTS if a != "a2_rnn_backprop"]
    notebooks = [p for a in first for p in _solved(course_root, student, a)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: (p, kit_py(student, "check", str(p))), notebooks))
    results += [(p, kit_py(student, "check", str(p))) for p in _solved(course_root, student, "a2_rnn_backprop")]
    for path, proc in results:
        assert proc.returncode == 0, f"{path}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        for test in _tests(student, path):
            assert f"✓ {test}" in proc.stdout, f"{path}: {test} not reported as passing:\n{proc.stdout}"
        assert "✗" not in proc.stdout and "pass (" in proc.stdout


RUN_TO_FIRST_ERROR = r'''
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from helpers.kernels import PrivateSocketKernelManager
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=600, kernel_name="python3", kernel_manager_class=PrivateSocketKernelManager,
                        resources={"metadata": {"path": sys.argv[2]}})
try:
    client.execute()
    print(json.dumps(None))
except CellExecutionError as err:
    index = max(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count"))
    print(json.dumps({"index": index, "ename": err.ename, "evalue": err.evalue}))
'''


@pytest.mark.slow
@pytest.mark.xdist_group("student_kit")
def test_released_notebooks_run_to_their_first_exercise(student, kit):
    """Each notebook as a student opens it: every cell runs until the first `#your code#` is called."""
    pristine = kit.folder / "notebooks"
    python = student / ".venv" / "bin" / "python"

    def run(path: Path):
        proc = subprocess.run([str(python), "-c", RUN_TO_FIRST_ERROR, str(path), str(student / "notebooks" / path.parent.name)],
                              capture_output=True, text=True, env=_plain_env(RNN_KIT_NO_PROGRESS="1",
                                                                             OMP_NUM_THREADS="1"), timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return path, json.loads(proc.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, sorted(pristine.glob("*/*.ipynb"))))
    for path, stop in results:
        nb = nbformat.read(path, as_version=4)
        meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
        first_exercise = next(i for i, m in enumerate(meta) if m.get("solution") and nb.cells[i].cell_type == "code")
        first_test = next(i for i, m in enumerate(meta) if i > first_exercise and m.get("grade"))
        assert stop is not None, f"{path.name} ran to the end with its exercises unanswered"
        assert stop["ename"] == "NotImplementedError", f"{path.name}: cell {stop['index']}: {stop}"
        assert first_exercise <= stop["index"] <= first_test, \
            f"{path.name} stopped at cell {stop['index']}, not at its first exercise ({first_exercise}-{first_test})"


@pytest.mark.slow
@pytest.mark.xdist_group("student_kit")
def test_check_and_submit_say_what_is_wrong(student, course_root, tmp_path):
    (correct,) = _solved(course_root, student, A1)
    wrong_bug = next(m for m in MUTATIONS[A1] if m.student == "softmax_no_shift")
    wrong = tmp_path / "wrong" / "rnn_forward.ipynb"
    wrong.parent.mkdir()
    nbformat.write(fill_release(student / "notebooks" / A1 / "rnn_forward.ipynb",
                                wrong_bug.apply(solution_sources(course_root / "solutions" / A1 / "rnn_forward.ipynb"))),
                   wrong)

    proc = kit_py(student, "check", str(wrong))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "✗ test_softmax" in proc.stdout and "CheckFailed: ✗ softmax(y + 1000)" in proc.stdout, proc.stdout
    assert "✓ test_one_hot" in proc.stdout and f"of {len(_tests(student, wrong))} test cells pass" in proc.stdout
    # A kernel that dies part way: the tests after it did not run, and do not pass.
    dies = tmp_path / "dies" / "rnn_forward.ipynb"
    dies.parent.mkdir()
    nb = nbformat.read(correct, as_version=4)
    exercise = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_forward")
    exercise.source += "\nimport os\nos._exit(1)"
    nbformat.write(nb, dies)
    proc = kit_py(student, "check", str(dies))
    assert proc.returncode == 1 and "The run stopped: DeadKernelError" in proc.stdout, proc.stdout + proc.stderr
    assert "✓ test_rnn_step_forward" in proc.stdout and "✗ test_sample" in proc.stdout, proc.stdout
    assert "did not run" in proc.stdout
    # A wrong answer is still an answer: it can be handed in.
    proc = kit_py(student, "submit", str(wrong), "--student", "bob")
    assert proc.returncode == 0, proc.stderr
    assert (student / "submissions" / "bob_a1_rnn_forward_rnn_forward.ipynb").read_bytes() == wrong.read_bytes()

    # The name alone finds the kit's copy, which is unanswered: refused, before any kernel starts.
    for command in ("check", "submit"):
        proc = kit_py(student, command, "rnn_forward", "--student", "carol") if command == "submit" else \
            kit_py(student, command, "rnn_forward")
        assert proc.returncode == 2 and "has no answers yet" in proc.stderr, proc.stderr
    assert not (student / "submissions" / "carol_a1_rnn_forward_rnn_forward.ipynb").exists()

    # Another assignment's notebook under this one's name, or a notebook from elsewhere.
    (a3,) = _solved(course_root, student, "a3_sampling")
    foreign = tmp_path / "foreign" / "rnn_forward.ipynb"
    foreign.parent.mkdir()
    shutil.copy(a3, foreign)
    stranger = tmp_path / "stranger.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), stranger)
    broken = tmp_path / "broken_rnn_forward.ipynb"
    broken.write_text('{"cells": [')
    edited, deleted = (tmp_path / name / "rnn_forward.ipynb" for name in ("edited", "deleted"))
    for path in (edited, deleted):
        path.parent.mkdir()
        nb = nbformat.read(correct, as_version=4)
        test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax")
        if path == edited:
            test.source = "pass  # the test is in my way"
        else:
            nb.cells.remove(test)
        nbformat.write(nb, path)
    refused = {foreign: "holds the exercises of a3_sampling/sampling", stranger: "holds none of the exercises",
               broken: "is not a notebook", edited: "the test cell test_softmax was edited",
               deleted: "the test cell test_softmax was deleted", tmp_path / "missing.ipynb": "does not exist"}
    for path, message in refused.items():
        for command in ("check", "submit"):
            proc = kit_py(student, command, str(path), "--student", "dan") if command == "submit" else \
                kit_py(student, command, str(path))
            assert proc.returncode == 2, f"{command} {path}: {proc.stdout}{proc.stderr}"
            assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not list((student / "submissions").glob("dan_*"))

    # Student ids: asked for when not given; one that import would misread is refused.
    proc = kit_py(student, "submit", str(correct), "--student", "alice_smith")
    assert proc.returncode == 2 and "no `_`" in proc.stderr, proc.stderr
    proc = kit_py(student, "submit", str(correct))
    assert proc.returncode == 2 and "--student" in proc.stderr, proc.stderr
    proc = kit_py(student, "submit", str(correct), input="alice\n")
    assert proc.returncode == 0, proc.stderr
    handed_in = student / "submissions" / "alice_a1_rnn_forward_rnn_forward.ipynb"
    assert handed_in.read_bytes() == correct.read_bytes()
    assert str(handed_in) in proc.stdout and "upload it" in proc.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("student_kit")
def test_submitted_files_are_imported_and_graded(student, course_root, tmp_path):
    """What `submit` wrote, downloaded by the instructor as a flat folder: `import` knows the student and
    the notebook, and `grade` gives the solution full marks and the bug the points it deserves."""
    submitted = {p.name: p for p in (student / "submissions").glob("*_a1_rnn_forward_rnn_forward.ipynb")}
    assert {"alice_a1_rnn_forward_rnn_forward.ipynb", "bob_a1_rnn_forward_rnn_forward.ipynb"} <= set(submitted), \
        "run after test_check_and_submit_say_what_is_wrong"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for name in ("alice_a1_rnn_forward_rnn_forward.ipynb", "bob_a1_rnn_forward_rnn_forward.ipynb"):
        shutil.copy(submitted[name], downloads / name)
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(course_root / "nbgrader_config.py", course)
    shutil.copytree(course_root / "solutions" / A1, course / "solutions" / A1)
    scan = instructor.import_submissions(downloads, A1, root=course)
    assert sorted(scan.found) == ["alice", "bob"] and set(scan.found["alice"]) == {"rnn_forward"}
    csv_path = instructor.grade(None, A1, root=course, jobs=2)
    import csv

    scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(csv_path.open())
              if row["assignment"] == A1}
    full = autograded_points(course_root / "solutions" / A1 / "rnn_forward.ipynb")
    softmax_points = next(c.metadata.nbgrader.points for c in nbformat.read(
        course_root / "solutions" / A1 / "rnn_forward.ipynb", as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax")
    assert scores == {"alice": full, "bob": full - softmax_points}, scores


# ------------------------------------------------------------------------------------------
# "Colab": only what Colab has, no repository, no helpers; the set-up cell does the rest


@pytest.fixture(scope="module")
def colab(environments) -> Path:
    return environments["colab"]


@pytest.mark.slow
@pytest.mark.xdist_group("student_kit")
def test_on_colab_the_set_up_cell_installs_the_helpers_and_the_data_comes_on_first_use(
        colab, kit, site, data_site, course_root):
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    from helpers.kernels import PrivateSocketKernelManager

    python = colab / "env" / "bin" / "python"
    specs = colab / "kernels"
    (specs / "colab").mkdir(parents=True, exist_ok=True)
    (specs / "colab" / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}))
    home = colab / "home"
    content = colab / "content"  # Colab's working folder: the notebook alone, no course beside it
    for folder in (home, content):
        folder.mkdir(exist_ok=True)
    env = _plain_env(HOME=str(home), RNN_KIT_DATA_URL=data_site.url, RNN_KIT_NO_PROGRESS="1",
                     PATH=str(python.parent) + os.pathsep + "/usr/bin:/bin")
    env.pop("XDG_DATA_HOME", None)
    ran = {}
    for assignment in ("a0_welcome", A1):
        (release,) = (kit.folder / "notebooks" / assignment).glob("*.ipynb")
        nb = fill_release(release, solution_sources(course_root / "solutions" / assignment / release.name))
        km = PrivateSocketKernelManager(kernel_name="colab", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]))
        client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(content)}})
        # raises CellExecutionError, with the cell and its traceback, on any error; shuts the kernel down
        client.execute(env=env, cleanup_kc=True)
        ran[assignment] = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                                    for o in c.outputs)
    assert "GET /" + kit.folder.name + "/wheels/" + kit.wheel.name in site.requests()
    installed = subprocess.run([str(python), "-c", "import helpers; print(helpers.__file__)"], capture_output=True,
                               text=True, cwd=content, env=env)
    assert str(colab / "env") in installed.stdout, installed
    data = home / ".local" / "share" / "rnn-course-kit" / "data"
    assert (data / "tinyshakespeare" / "input.txt").is_file() and (data / "chinese-poetry").is_dir()
    assert "GET /tinyshakespeare/input.txt" in data_site.requests()
    assert "Fetching" in ran["a0_welcome"] and "✓" in ran[A1]
    versions = subprocess.run([str(python), "-c", "import numpy, torch; print(numpy.__version__, torch.__version__)"],
                              capture_output=True, text=True, env=env).stdout.split()
    assert versions[0] == SK.COLAB_NUMPY and versions[1].startswith(SK.TESTED_TORCH)
