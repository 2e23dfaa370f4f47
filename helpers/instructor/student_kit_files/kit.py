#!/usr/bin/env python3
"""The student kit of the course, one entry point, standard library only.

    python3 kit.py setup                          create the environment in .venv and fetch the data (once)
    python3 kit.py lab                            open the course in JupyterLab (sets everything up first)
    python3 kit.py data [--mirror DIR]            fetch and verify the corpora
    python3 kit.py check NOTEBOOK                 run the notebook's visible tests in a fresh kernel
    python3 kit.py submit NOTEBOOK [--student ID] write the file to hand in, named for your instructor

NOTEBOOK is the notebook's file (notebooks/a1_rnn_forward/rnn_forward.ipynb) or its name
(rnn_forward, or the assignment's name, a1_rnn_forward).

The first run of setup, lab or check creates a virtual environment in .venv/ (PyTorch, JupyterLab,
numpy, matplotlib, ...; a few minutes) and fetches the data into data/. Later runs start at once.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
KIT = ROOT / ".kit" / "kit.json"
VENV = Path(os.environ.get("RNN_KIT_VENV", ROOT / ".venv"))
STAMP = VENV / ".kit-installed"
# The CPU build of PyTorch; PyPI's Linux wheel carries CUDA (several GB).
TORCH_CPU_INDEX = os.environ.get("RNN_KIT_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")
# What the instructor's import reads from a flat file name: the student id is the text before
# the first `_`, so an id holds letters, digits and `. @ -` only.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@-]*$")
COPY_SUFFIX = re.compile(r"(?:-\d+| \(\d+\))$")
STUB = "raise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
# Exit status of a refused notebook (1 means: checked, and some tests fail).
REFUSED = 2


class Refused(Exception):
    """The notebook cannot be checked or handed in; the message says why and what to do."""


def kit_info() -> dict:
    try:
        return json.loads(KIT.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        sys.exit(f"kit.py: cannot read {KIT} ({err}): unpack the student kit again, it is incomplete")


# ------------------------------------------------------------------------------------------
# The environment


# JupyterLab's defaults that a student meets first: a "Jupyter news?" prompt at every start and an
# update check; both are off in the course's environment (its settings overrides).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def quiet_lab(prefix: Path) -> None:
    """Write LAB_OVERRIDES into the environment's JupyterLab settings (keeping other overrides)."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = {}
    merged = {**current, **{k: {**current.get(k, {}), **v} for k, v in LAB_OVERRIDES.items()}}
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")


def venv_bin() -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin")


def venv_python() -> Path:
    return venv_bin() / ("python.exe" if os.name == "nt" else "python")


def environment() -> dict[str, str]:
    """The process environment with the kit's venv activated."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONHOME", None)
    return env


def run(*cmd, check: bool = True, quiet: bool = False, env: dict | None = None) -> int:
    if not quiet:
        print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], env=env or environment(), cwd=ROOT, check=check).returncode


def install_stamp(info: dict) -> str:
    """What the environment was built from: set it up again when the kit or its folder changes."""
    text = json.dumps([info["kit_version"], info["requirements"], str(ROOT)])
    return hashlib.sha256(text.encode()).hexdigest()


def setup(info: dict) -> None:
    minimum = tuple(int(p) for p in info["python_requires"].removeprefix(">=").split("."))
    if sys.version_info[:2] < minimum:
        sys.exit(f"kit.py: Python {info['python_requires'].removeprefix('>=')} or newer is needed, this is "
                 f"{sys.version.split()[0]}; install a newer Python (python.org) and run kit.py with it")
    if STAMP.exists() and STAMP.read_text() == install_stamp(info):
        quiet_lab(VENV)
        return
    if not venv_python().exists():
        print(f"Creating the course environment in {VENV} (first run: a few minutes)", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [venv_python(), "-m", "pip", "install", "--quiet"]
    torch = info["torch"]
    # A torch wheel already on this machine (pip's find-links) wins; otherwise the CPU build.
    local = subprocess.run([str(c) for c in (*pip, "--no-index", "--no-deps", torch)], env=environment(), cwd=ROOT,
                           capture_output=True)
    if local.returncode != 0:
        if sys.platform == "darwin":  # macOS wheels on PyPI are CPU builds already
            run(*pip, torch)
        else:
            run(*pip, "--index-url", TORCH_CPU_INDEX, torch)
    run(*pip, *info["requirements"])
    # The kit's own helpers folder on the environment's path (what an editable install does).
    purelib = subprocess.run([str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "rnn_course_kit_student.pth").write_text(str(ROOT) + "\n", encoding="utf-8")
    quiet_lab(VENV)
    STAMP.write_text(install_stamp(info))


def fetch_data(extra: list[str]) -> int:
    return run(venv_python(), "-m", "helpers.data", "fetch", *extra, check=False)


# ------------------------------------------------------------------------------------------
# Which notebook a file is, and whether it can be checked or handed in


def read_notebook(path: Path) -> dict:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Refused(f"{path} is not a notebook (not text): give the .ipynb file you worked in") from None
    except ValueError as err:
        raise Refused(f"{path} is not a notebook ({err}); it may be damaged. Open it in Jupyter: if it "
                      "does not open, start again from a fresh copy of the notebook (the kit's zip)") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise Refused(f"{path} is not a Jupyter notebook (no cells): give the .ipynb file you worked in")
    return nb


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else str(text)


def grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
    return meta.get("grade_id") if isinstance(meta, dict) else None


def checksum(cell: dict) -> str:
    """nbgrader's checksum of a cell (nbgrader.utils.compute_checksum): what the grader compares."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    grade, solution = bool(meta.get("grade", False)), bool(meta.get("solution", False))
    locked = False if solution else True if grade else bool(meta.get("locked", False))
    digest = hashlib.md5()
    for part in (source(cell), cell.get("cell_type", ""), str(grade), str(solution), str(locked),
                 meta.get("grade_id", "")):
        digest.update(str(part).encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def resolve(argument: str, info: dict) -> Path:
    """The file a NOTEBOOK argument names: a path, or a notebook's or assignment's name."""
    path = Path(argument).expanduser()
    if path.suffix == ".ipynb" or path.exists() or os.sep in argument or "/" in argument:
        if not path.is_file():
            raise Refused(f"{path} does not exist: give the path of your notebook, e.g. "
                          f"{info['notebooks'][0]['path']}")
        return path
    named = [n for n in info["notebooks"] if argument in (n["notebook"], n["assignment"],
                                                          f"{n['assignment']}/{n['notebook']}")]
    if len(named) == 1:
        return ROOT / named[0]["path"]
    if len(named) > 1:
        raise Refused(f"{argument} names {len(named)} notebooks: give one of "
                      + ", ".join(n["path"] for n in named))
    raise Refused(f"no notebook called {argument!r} in this kit: give the .ipynb file, or one of "
                  + ", ".join(n["notebook"] for n in info["notebooks"]))


def named_as(path: Path, info: dict) -> dict | None:
    """The kit notebook a file's place or name says it is (None when they say nothing)."""
    try:
        relative = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        relative = None
    for entry in info["notebooks"]:
        if relative == entry["path"]:
            return entry
    stem = COPY_SUFFIX.sub("", path.stem).removeprefix("Copy of ")
    hits = [e for e in info["notebooks"] if stem == e["notebook"] or stem.endswith("_" + e["notebook"])]
    return max(hits, key=lambda e: len(e["notebook"])) if hits else None


def identify(path: Path, nb: dict, info: dict) -> dict:
    """The kit notebook whose exercises and tests the file holds; refused when it is none of them or
    when its name says another."""
    ids = {grade_id(c) for c in nb["cells"]} - {None}

    def graded(entry):
        return {t["id"] for t in entry["tests"]} | {e["id"] for e in entry["exercises"]}

    best = max(info["notebooks"], key=lambda e: len(ids & graded(e)))
    shared = len(ids & graded(best))
    if shared * 2 < len(graded(best)):
        raise Refused(f"{path.name} holds none of the exercises of this kit's notebooks ("
                      + ", ".join(f"{e['assignment']}/{e['notebook']}" for e in info["notebooks"])
                      + "): is it a notebook of this course, from this kit? Work in the kit's own copy, "
                      f"e.g. {info['notebooks'][0]['path']}")
    named = named_as(path, info)
    if named is not None and named is not best:
        raise Refused(f"{path.name} is named as {named['assignment']}/{named['notebook']} but holds the "
                      f"exercises of {best['assignment']}/{best['notebook']}: give the notebook of "
                      f"{named['assignment']} ({named['path']}), or name this one after {best['notebook']}")
    return best


def inspect(path: Path, nb: dict, entry: dict) -> tuple[list[str], list[str]]:
    """Refuses a notebook with an edited or deleted test cell, or with no answer at all.
    Returns (exercises still unanswered, warnings)."""
    cells = {}
    for cell in nb["cells"]:
        cells.setdefault(grade_id(cell), cell)
    problems = []
    for test in entry["tests"]:
        cell = cells.get(test["id"])
        if cell is None:
            problems.append(f"the test cell {test['id']} was deleted")
        elif checksum(cell) != test["checksum"]:
            problems.append(f"the test cell {test['id']} was edited")
    if problems:
        raise Refused(f"{path.name}: " + "; ".join(problems) + ". Test cells are locked: the grader puts the "
                      "original back and runs it. Undo the change (Edit > Undo, or copy the cell back from a "
                      "fresh copy of the notebook, in the kit's zip), then run this command again")
    unanswered = []
    for exercise in entry["exercises"]:
        cell = cells.get(exercise["id"])
        if cell is None or source(cell).strip() == exercise["released"].strip():
            unanswered.append(exercise["id"])
    if len(unanswered) == len(entry["exercises"]):
        raise Refused(f"{path.name} has no answers yet: every exercise cell is as released (`#your code#`, "
                      f"`{TEXT_STUB}`). Save the notebook in Jupyter (Ctrl+S) and give the file you saved")
    warnings = [f"the locked cell {item['id']} was changed; the grader runs the original instead"
                for item in entry["locked"] if item["id"] in cells and checksum(cells[item["id"]]) != item["checksum"]]
    return unanswered, warnings


def prepare(argument: str, info: dict) -> tuple[Path, dict, dict, list[str], list[str]]:
    path = resolve(argument, info)
    nb = read_notebook(path)
    entry = identify(path, nb, info)
    unanswered, warnings = inspect(path, nb, entry)
    return path, nb, entry, unanswered, warnings


# ------------------------------------------------------------------------------------------
# check: the visible tests in a fresh kernel


def check(argument: str, info: dict, timeout: int) -> int:
    path, nb, entry, unanswered, warnings = prepare(argument, info)
    for warning in warnings:
        print(f"warning: {warning}")
    setup(info)
    print(f"Running {path} ({entry['assignment']}/{entry['notebook']}) in a fresh kernel, all cells, as the "
          f"grader does (short training runs; at most {timeout} s a cell)...", flush=True)
    with tempfile.TemporaryDirectory(prefix="rnn-kit-check-") as scratch:
        report = Path(scratch) / "report.json"
        env = dict(environment(), NBGRADER_EXECUTION="validate")
        status = run(venv_python(), ROOT / "kit.py", "_execute", path.resolve(), report, str(timeout),
                     check=False, quiet=True, env=env)
        if status != 0 or not report.is_file():
            print(f"kit.py: the notebook could not be run (exit status {status}; see above)", file=sys.stderr)
            return 1
        ran = json.loads(report.read_text(encoding="utf-8"))
    if ran.get("fatal"):
        print(f"The run stopped: {ran['fatal']} (the kernel died: out of memory, a crash, or os._exit?). "
              "The cells after it did not run.")
    errors = {cell["id"]: cell for cell in ran["cells"]}
    passed = points = total = 0
    for test in entry["tests"]:
        total += test["points"]
        cell = errors.get(test["id"], {})
        error = cell.get("error") or (None if cell.get("ran") else "did not run")
        if error is None:
            passed += 1
            points += test["points"]
            print(f"  ✓ {test['id']}  ({test['points']:g} points)")
        else:
            print(f"  ✗ {test['id']}  ({test['points']:g} points)")
            for line in error.splitlines()[:12]:
                print(f"      {line}")
    others = [c for c in ran["cells"] if c["error"] and c["id"] not in {t["id"] for t in entry["tests"]}]
    if others:
        print("Errors in other cells (the tests after them fail too):")
        for cell in others[:5]:
            print(f"  cell {cell['index'] + 1}{' (' + cell['id'] + ')' if cell['id'] else ''}: "
                  f"{cell['error'].splitlines()[0]}")
    n_tests = len(entry["tests"])
    print(f"\nVisible tests: {passed} of {n_tests} test cells pass ({points:g} of {total:g} points).")
    if unanswered:
        print(f"Not answered yet: {', '.join(unanswered)}.")
    print("The grade also counts hidden tests (other inputs and edge cases) and the discussion answers, "
          "which your instructor grades.")
    return 0 if passed == n_tests else 1


def execute(notebook: Path, report: Path, timeout: int) -> int:
    """Runs inside the environment: every cell in a fresh kernel; writes each cell's error."""
    import nbformat
    from nbclient import NotebookClient

    from helpers.kernels import PrivateSocketKernelManager

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            kernel_manager_class=PrivateSocketKernelManager, interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(notebook.parent)}})
    fatal = None
    # The kernel's own log is shown only if the run fails.
    with tempfile.TemporaryFile("w+") as log:
        try:
            client.execute(stderr=log)
        except Exception as err:  # noqa: BLE001 - the kernel died, or could not start: say so
            log.seek(0)
            sys.stderr.write(log.read()[-3000:])
            fatal = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
    cells = []
    for index, cell in enumerate(nb.cells):
        error = None
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                    if output.get("ename") == "KeyboardInterrupt":
                        error = f"stopped after {timeout} s (the grader stops a cell that runs too long, too)"
        ran = cell.cell_type == "code" and cell.get("execution_count") is not None
        cells.append({"index": index, "id": grade_id(cell), "error": error, "ran": ran})
    report.write_text(json.dumps({"cells": cells, "fatal": fatal}), encoding="utf-8")
    return 0


# ------------------------------------------------------------------------------------------
# submit: the file to hand in


def ask_student() -> str:
    try:
        return input("Your student id (as your course knows you, e.g. your university login): ").strip()
    except EOFError:
        raise Refused("no student id: give it with --student ID") from None


def submit(argument: str, info: dict, student: str | None, out: Path) -> int:
    path, nb, entry, unanswered, warnings = prepare(argument, info)
    student = student if student is not None else ask_student()
    if not STUDENT_ID.match(student):
        raise Refused(f"{student!r} cannot be a student id here: use letters, digits and . @ - only (no spaces, "
                      "no `_`: your instructor's import reads the id up to the first `_`), e.g. "
                      f"{re.sub(r'[^A-Za-z0-9.@-]+', '-', student).strip('-.@') or 'alice'}")
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{student}_{entry['assignment']}_{entry['notebook']}.ipynb"
    fd, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=out)
    with os.fdopen(fd, "wb") as handle:
        handle.write(path.read_bytes())
    os.replace(scratch, target)
    for warning in warnings:
        print(f"warning: {warning}")
    if unanswered:
        print(f"Not answered yet: {', '.join(unanswered)} (you can submit again later; the newest file counts).")
    print(f"Wrote {target}")
    print(f"Hand in this file for {entry['assignment']}: upload it, unchanged, where your course collects the "
          "assignment. It was not run: `python3 kit.py check` shows which visible tests pass.")
    return 0


# ------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    if argv[0] == "_execute":  # inside the environment, started by `check`
        return execute(Path(argv[1]), Path(argv[2]), int(argv[3]))
    info = kit_info()
    command, rest = argv[0], argv[1:]
    try:
        if command == "check":
            parser = argparse.ArgumentParser(prog="kit.py check", description="Run a notebook's visible tests in a "
                                             "fresh kernel, all cells from the top, and list each test cell's result.")
            parser.add_argument("notebook", help="the .ipynb file, or the notebook's name (e.g. rnn_forward)")
            parser.add_argument("--timeout", type=int, default=info.get("cell_timeout", 60),
                                help="seconds a cell may run (default: what the grader allows)")
            args = parser.parse_args(rest)
            return check(args.notebook, info, args.timeout)
        if command == "submit":
            parser = argparse.ArgumentParser(prog="kit.py submit", description="Write the file to hand in: "
                                             "<student>_<assignment>_<notebook>.ipynb in submissions/.")
            parser.add_argument("notebook", help="the .ipynb file, or the notebook's name (e.g. rnn_forward)")
            parser.add_argument("--student", help="your student id (asked for when not given)")
            parser.add_argument("--out", type=Path, default=ROOT / "submissions", help="folder to write to "
                                "(default: submissions/ in the kit)")
            args = parser.parse_args(rest)
            return submit(args.notebook, info, args.student, args.out)
    except Refused as err:
        print(f"kit.py {command}: {err}", file=sys.stderr)
        return REFUSED
    if command in {"setup", "lab", "data"}:
        setup(info)
        if command == "data":
            return fetch_data(rest)
        if fetch_data(["--quiet"]) != 0:
            return 1
        if command == "setup":
            print("Ready: `python3 kit.py lab` opens the course.")
            return 0
        # Jupyter refuses to start as root without this flag; root is the usual user in a container.
        as_root = ["--allow-root"] if os.name != "nt" and os.geteuid() == 0 and "--allow-root" not in rest else []
        return run("jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *as_root, *rest, check=False)
    sys.exit(f"kit.py: unknown command {command!r}; try `python3 kit.py --help`")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as err:
        sys.exit(f"kit.py: `{' '.join(map(str, err.cmd))}` failed with exit code {err.returncode}")
    except KeyboardInterrupt:
        sys.exit(130)
