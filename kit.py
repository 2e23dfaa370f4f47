#!/usr/bin/env python3
"""One entry point for the course kit, standard library only.

    python3 kit.py lab       open the course in JupyterLab (sets everything up first)
    python3 kit.py test      run the whole test suite (sets everything up first)

and, for instructors and maintainers:

    python3 kit.py setup     create or update the environment in .venv
    python3 kit.py data      fetch and verify the corpora (RNN_KIT_MIRROR=DIR copies from a mirror)
    python3 kit.py release   regenerate notebooks/ from solutions/
    python3 kit.py import SUBMISSIONS -a ASSIGNMENT   copy a class's notebooks (folder or LMS zip) for grading
    python3 kit.py grade [SUBMISSIONS] -a ASSIGNMENT  autograde a class with nbgrader, grades to CSV
    python3 kit.py export [--csv FILE]                the gradebook as CSV
    python3 kit.py feedback -a ASSIGNMENT             HTML feedback without the hidden tests
    python3 kit.py grade-one NOTEBOOK                 grade one notebook, per-cell scores as JSON
    python3 kit.py student-kit ASSIGNMENT ... --github OWNER/REPO   build the student kit in dist/student-kit/
    python3 kit.py run CMD   run any command inside the environment

(`python3 kit.py COMMAND --help` explains each instructor command.)

nbgrader starts `alembic` and the Jupyter kernel from PATH, so a virtual
environment that is not activated fails in confusing ways; every command here
runs with the environment's bin folder first on PATH.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("RNN_KIT_VENV", ROOT / ".venv"))
STAMP = VENV / ".kit-installed"
TORCH = "torch==2.13.0"
# Subcommands of helpers/instructor/ (`rnn-kit`), run inside the environment.
INSTRUCTOR_COMMANDS = ("release", "import", "grade", "export", "feedback", "grade-one", "student-kit")
# The CPU build of PyTorch; PyPI's Linux wheel carries CUDA (several GB).
TORCH_CPU_INDEX = os.environ.get("RNN_KIT_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")


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
    """The process environment with the course's venv activated."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONHOME", None)
    return env


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], env=environment(), cwd=ROOT, check=check).returncode


def install_stamp() -> str:
    """What the installed environment was built from: re-install when it changes."""
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def install_torch_cpu() -> None:
    pip = [venv_python(), "-m", "pip", "install", "--quiet"]
    # A wheel already on this machine (pip's find-links) wins: no download of
    # torch itself; its small dependencies come with the course's own install.
    if run(*pip, "--no-index", "--no-deps", TORCH, check=False) == 0:
        return
    if sys.platform == "darwin":  # macOS wheels on PyPI are CPU builds already
        run(*pip, TORCH)
    else:
        run(*pip, "--index-url", TORCH_CPU_INDEX, TORCH)


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"kit.py: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == install_stamp():
        quiet_lab(VENV)
        return
    if not venv_python().exists():
        print(f"Creating the course environment in {VENV} (first run: a few minutes)", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    install_torch_cpu()
    run(venv_python(), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]")
    quiet_lab(VENV)
    STAMP.write_text(install_stamp())


def fetch_data(extra: list[str]) -> None:
    run(venv_python(), "-m", "helpers.data", "fetch", *extra)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    setup()
    if command == "setup":
        return 0
    if command == "data":
        fetch_data(rest)
        return 0
    if command == "lab":
        fetch_data(["--quiet"])
        # Jupyter refuses to start as root without this flag; root is the usual user in a container.
        as_root = ["--allow-root"] if os.name != "nt" and os.geteuid() == 0 and "--allow-root" not in rest else []
        return run("jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *as_root, *rest, check=False)
    if command == "test":
        fetch_data(["--quiet"])
        # Independent tests run in parallel, one worker per core, unless told otherwise.
        parallel = [] if any(a.startswith(("-n", "--numprocesses")) for a in rest) else ["-n", "auto"]
        return run(venv_python(), "-m", "pytest", *parallel, *rest, check=False)
    if command in INSTRUCTOR_COMMANDS:
        return run("rnn-kit", command, *rest, check=False)
    if command == "run":
        if not rest:
            sys.exit("kit.py run: give the command to run, e.g. `python3 kit.py run nbgrader --version`")
        return run(*rest, check=False)
    sys.exit(f"kit.py: unknown command {command!r}; try `python3 kit.py --help`")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as err:
        sys.exit(f"kit.py: `{' '.join(map(str, err.cmd))}` failed with exit code {err.returncode}")
    except KeyboardInterrupt:
        sys.exit(130)
