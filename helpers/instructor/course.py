"""What every instructor command shares: the course's assignments, nbgrader on PATH, the gradebook."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import COURSE_ROOT

GRADING = "grading"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class GradingError(RuntimeError):
    """A grading step cannot go on; the message says what to do."""


def assignments(root: Path = COURSE_ROOT) -> list[str]:
    """Assignment ids: the folders of solutions/ that hold notebooks, sorted."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_names(root: Path, assignment: str) -> list[str]:
    """The notebooks of an assignment (file stems in solutions/ASSIGNMENT/), sorted."""
    return sorted(p.stem for p in (root / "solutions" / assignment).glob("*.ipynb"))


def check_assignment(root: Path, assignment: str) -> None:
    known = assignments(root)
    if assignment not in known:
        raise GradingError(f"unknown assignment {assignment!r}: the course has {', '.join(known) or 'none'}")


def default_db_url(root: Path) -> str:
    return os.environ.get("RNN_KIT_DB_URL") or f"sqlite:///{root / GRADING / 'gradebook.db'}"


def environment(threads: int | None = None) -> dict[str, str]:
    """The environment nbgrader runs in: this Python's bin folder first on PATH (nbgrader starts
    alembic and the kernel from PATH)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if threads:
        # Kernels graded side by side share the cores: BLAS and torch thread pools sized for the
        # whole machine then spin against each other (measured: 20x slower small matmuls under
        # load). A value the instructor set wins.
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(threads))
    return env


def gradebook(db_url: str):
    """nbgrader's Gradebook in this process; it runs `alembic` from PATH when it creates a database."""
    from nbgrader.api import Gradebook

    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return Gradebook(db_url)


def kill_tree(pid: int) -> None:
    """Kill a process and everything it started (nbgrader starts kernels in sessions of their own)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with IPython
        os.killpg(pid, signal.SIGKILL)
        return
    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def nbgrader(root: Path, db_url: str, *args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    """Run one nbgrader command on the course in `root` with the gradebook at `db_url`."""
    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url}"]
    proc = subprocess.run(cmd, cwd=root, env=environment(), text=True, capture_output=True)
    if not quiet or proc.returncode:
        sys.stderr.write(proc.stdout + proc.stderr)
    return proc
