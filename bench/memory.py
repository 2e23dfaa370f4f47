"""Peak memory (RSS) of the kit's heaviest everyday jobs, beside a bare numpy + torch process.

    python3 kit.py run python bench/memory.py [--seconds 20]

Each job runs as a child process tree, polled every 0.1 s with psutil:
- reference: `python -c "import numpy, torch"`, what any job of the kit starts from;
- (a) the a2 char-RNN training loop (solutions/a2_rnn_backprop: its import cell, its functions and its
  training cell `code-17`, run through bench/solution_code.py), stopped after `--seconds`
  by helpers.training.train's own time_limit;
- (b) one `nbgrader autograde` of the a1 solution notebook in a temporary course folder:
  nbgrader_config.py and solutions/a1_rnn_forward copied there, `nbgrader generate_assignment
  a1_rnn_forward --force`, the solution notebook put as student `student`'s submission
  (grading/submitted/student/a1_rnn_forward/rnn_forward.ipynb: nbgrader_config.py's
  submitted_directory), `nbgrader autograde a1_rnn_forward`, gradebook RNN_KIT_DB_URL=sqlite:///<tmp>/gb.db.
  nbgrader runs as helpers/instructor/ runs it (its environment, the course root and gradebook
  on the command line, a session of its own); the tree includes the kernel it starts.

Printed per job: the peak of the summed RSS of the tree (what the machine must hold at once), the
largest VmHWM of one process of the tree (the kernel's own peak for (b); VmHWM is the kernel's
high-water mark, so it catches peaks between two polls), the number of processes and the wall time.
"""
from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
MIB = 2 ** 20


def environment(**extra: str) -> dict[str, str]:
    """As helpers.instructor.environment: this environment's bin first on PATH (nbgrader starts
    alembic and the kernel from PATH), plus `extra`."""
    env = dict(os.environ, **extra)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def vm_hwm(proc: psutil.Process) -> int:
    """The process's peak RSS so far (VmHWM of /proc/<pid>/status), in bytes."""
    with open(f"/proc/{proc.pid}/status") as status:
        # A zombie (ended, not yet reaped) has no VmHWM line.
        return next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:")), 0)


def watch(cmd: list[str], *, cwd: Path = ROOT, env: dict | None = None, timeout: float = 600,
          log: Path | None = None) -> dict:
    """Run `cmd`, polling its process tree every 0.1 s.

    Returns {"rc", "peak_tree" (bytes), "peak_process" (bytes), "processes", "seconds", "output"}.
    """
    out = open(log or os.devnull, "w")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env or environment(), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    root = psutil.Process(proc.pid)
    peak_tree = peak_process = 0
    seen = set()
    while True:
        # wait4 rather than poll: it also gives the child's own ru_maxrss, even if it peaked after the last poll.
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            peak_process = max(peak_process, usage.ru_maxrss * 1024)  # KiB on Linux
            break
        if time.perf_counter() - start > timeout:
            for p in root.children(recursive=True) + [root]:
                p.kill()
            raise TimeoutError(f"{cmd[:3]} ran past {timeout} s")
        total = 0
        for p in [root] + root.children(recursive=True):
            try:
                total += p.memory_info().rss
                peak_process = max(peak_process, vm_hwm(p))
                seen.add(p.pid)
            except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
                pass  # it ended between the listing and the reading
        peak_tree = max(peak_tree, total)
        time.sleep(0.1)
    out.close()
    return {"rc": os.waitstatus_to_exitcode(status), "peak_tree": peak_tree, "peak_process": peak_process,
            "processes": len(seen), "seconds": time.perf_counter() - start,
            "output": log.read_text() if log else ""}


def a2_training_child(seconds: float) -> None:
    """In the child: the a2 notebook's import cell, functions and training cell, for `seconds`."""
    import solution_code

    notebook = "a2_rnn_backprop/rnn_backprop.ipynb"
    ns = solution_code.load(notebook, ("code-02", "code-04", "rnn_backward", "loss_fun", "clip_gradients",
                                       "adagrad_update"), {})
    ns["train"] = functools.partial(ns["train"], time_limit=seconds)  # the cell asks for 15,000 steps
    solution_code.load(notebook, ("code-17",), ns)
    print(f"A2_STEPS {ns['history'].steps}")


def autograde_a1(tmp: Path) -> tuple[dict, str]:
    """(b): the watched `nbgrader autograde` run and the score it gave, in course folder `tmp`."""
    assignment, db_url = "a1_rnn_forward", f"sqlite:///{tmp / 'gb.db'}"
    shutil.copy2(ROOT / "nbgrader_config.py", tmp)
    shutil.copytree(ROOT / "solutions" / assignment, tmp / "solutions" / assignment)
    env = environment(RNN_KIT_DB_URL=db_url)
    course = [f"--CourseDirectory.root={tmp}", f"--CourseDirectory.db_url={db_url}"]
    subprocess.run(["nbgrader", "generate_assignment", assignment, "--force", *course], cwd=tmp, env=env,
                   check=True, capture_output=True)
    submitted = tmp / "grading" / "submitted" / "student" / assignment / "rnn_forward.ipynb"
    submitted.parent.mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / assignment / "rnn_forward.ipynb", submitted)
    run = watch(["nbgrader", "autograde", assignment, *course], cwd=tmp, env=env, log=tmp / "autograde.log")
    if run["rc"]:
        raise RuntimeError("nbgrader autograde failed:\n" + run["output"][-3000:])
    from course_autograde import points

    total, most, auto, auto_most = points(db_url, assignment, "student")
    return run, f"score {total:g}/{most:g}: autograded cells {auto:g}/{auto_most:g}, the rest by hand"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="length of the a2 training run")
    parser.add_argument("--a2-child", type=float, help=argparse.SUPPRESS)  # the child process of (a)
    args = parser.parse_args()
    if args.a2_child:
        return a2_training_child(args.a2_child)

    rows = []
    ref = watch([sys.executable, "-c", "import numpy, torch"])
    rows.append(("reference: python -c 'import numpy, torch'", ref, ""))
    with tempfile.TemporaryDirectory(prefix="rnn-kit-memory-") as tmp:
        env = environment(RNN_KIT_NO_PROGRESS="1")
        env.pop("NBGRADER_EXECUTION", None)  # full mode: the cell's budget asks for 15,000 steps
        a2 = watch([sys.executable, str(BENCH / "memory.py"), "--a2-child", str(args.seconds)], env=env,
                   log=Path(tmp) / "a2.log")
        if a2["rc"]:
            raise RuntimeError("the a2 training run failed:\n" + a2["output"][-3000:])
        steps = next(line.split()[1] for line in a2["output"].splitlines() if line.startswith("A2_STEPS"))
        rows.append((f"(a) a2 char-RNN training loop, {args.seconds:g} s", a2, f"{int(steps):,} steps"))
        grading, score = autograde_a1(Path(tmp))
        rows.append(("(b) nbgrader autograde, a1 solution notebook", grading, score))

    print(f"load average after the runs {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); "
          "RSS polled every 0.1 s (psutil)\n")
    print(f"{'job':46s} {'peak RSS, tree (MiB)':>21s} {'largest VmHWM (MiB)':>20s} {'processes':>9s} "
          f"{'wall (s)':>8s}  notes")
    for name, r, note in rows:
        print(f"{name:46s} {r['peak_tree'] / MIB:21.0f} {r['peak_process'] / MIB:20.0f} {r['processes']:9d} "
              f"{r['seconds']:8.1f}  {note}")


if __name__ == "__main__":
    main()
