"""The sandbox every graded kernel runs in: bubblewrap (`bwrap`, what Flatpak uses) on Linux.

nbgrader_config.py puts SandboxedExecute in nbgrader's autograde pipeline, so `kit.py grade`,
`grade-one`, plain `nbgrader autograde` and the formgrader's autograde button all start their
kernels with SandboxKernelManager.

Inside, the kernel sees
- read-only: the system (/usr), the Python installation and its environment, `helpers/`
  (with the kit's weights, and the visible tests' expected values of the assignment being
  graded only) and the corpora;
- read-write: a private copy of its own submission folder (a size-capped tmpfs at the
  folder's path) and a private /tmp, both gone when the kernel ends; the copy leaves out the
  notebooks, since the one being graded holds the restored test cells, hidden tests included;
- nothing else: no course root, no solutions/, no gradebook, no classmates, no home
  directory; a clean environment (SANDBOX_VARIABLES and the kernel spec's own);
- no network (its own network namespace: even 127.0.0.1 is its own, empty one); it talks
  to the grader over ZeroMQ `ipc` sockets in a private folder bound into the sandbox;
- its own PID, IPC and UTS namespaces and session, which it cannot leave (seccomp refuses
  setsid, see no_new_sessions_filter), no capabilities, no new privileges; limits on
  address space, processes, file size and open files (prlimit, util-linux). Linux counts
  processes per user and never limits root's: graded as root, each kernel runs as a user of
  its own (claim_uid); graded as a normal user, in a user namespace of its own, where Linux
  counts them apart too.

Interrupts (a cell past its time limit) travel as a control message: the kernel signals
itself, since a signal from outside would reach bubblewrap rather than the kernel.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode

from helpers.instructor.course import GradingError
from helpers.kernels import SOCKET_PATH_LIMIT, socket_path_fits, use_private_sockets

#: Where the kernel finds the files of its submission (not the notebooks) to copy into its working folder.
SUBMISSION_MOUNT = "/tmp/.submission"
#: Grading as root: each running kernel gets the user FIRST_UID + n, for a free slot n (a lock in SLOTS).
FIRST_UID = 1_900_000_000
MAX_SANDBOXES = 1024
SLOTS = Path(tempfile.gettempdir()) / "rnn-kit-sandbox-uids"
#: Variables passed from the grader's environment into the sandbox; every other one stays outside
#: (a gradebook URL with a password, tokens, the instructor's paths).
SANDBOX_VARIABLES = ("NBGRADER_EXECUTION", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "RNN_KIT_NO_PROGRESS", "RNN_KIT_DATA_DIR",
                     "LANG", "LC_ALL", "TZ")
#: What the system needs read-only besides /usr: the dynamic loader's cache, fonts, time zones.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/fonts", "/etc/localtime",
                "/usr/share/zoneinfo")
INSTALL_HINT = ("install bubblewrap (Debian, Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf "
                "install bubblewrap`; Arch: `sudo pacman -S bubblewrap`) and util-linux's prlimit; on macOS or "
                "Windows grade in a Linux virtual machine or container. `--no-sandbox` grades without it, "
                "running every student's code with your rights: only for code you trust")


class SandboxUnavailable(GradingError):
    """Grading cannot be sandboxed on this machine; the message names what to install."""


def size_in_bytes(text: str) -> int:
    """'4G' -> 4294967296; '512M', '64k', '1000' (bytes)."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    value = str(text).strip().lower().removesuffix("b").removesuffix("i")
    try:
        return int(float(value[:-1]) * units[value[-1]]) if value and value[-1] in units else int(value)
    except ValueError:
        raise GradingError(f"{text!r} is not a size: write bytes or a number with k, M or G, e.g. 4G") from None


@lru_cache(maxsize=None)
def _probe(bwrap: str, root: bool) -> str:
    """'' if bubblewrap can build a sandbox here (as root, or with user namespaces), else why not."""
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net"] + ([] if root else ["--unshare-user"])
    proc = subprocess.run([bwrap, *namespaces, "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
                           "--dev", "/dev", "true"], capture_output=True, text=True)
    if proc.returncode:
        return proc.stderr.strip() or f"exit code {proc.returncode}"
    return ""


def check_available() -> None:
    """Raise SandboxUnavailable, saying what to install, unless bubblewrap works on this machine."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"grading runs every submission in a bubblewrap sandbox, which needs Linux "
                                 f"(this is {sys.platform}): {INSTALL_HINT}")
    tools = ("bwrap", "prlimit", "setpriv") if as_root() else ("bwrap", "prlimit")
    missing = " and ".join(tool for tool in tools if not shutil.which(tool))
    if missing:
        raise SandboxUnavailable(f"grading runs every submission in a sandbox, but {missing} is not on PATH: "
                                 f"{INSTALL_HINT}")
    why = _probe(shutil.which("bwrap"), as_root())
    if why:
        raise SandboxUnavailable(f"bubblewrap cannot create a sandbox here ({why}); user namespaces may be "
                                 "disabled (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04 "
                                 "kernel.apparmor_restrict_unprivileged_userns=0), or run the grader as root "
                                 f"in a container that allows them. Otherwise: {INSTALL_HINT}")


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def python_paths() -> list[Path]:
    """The Python installation and environment the kernel runs from (the grader's own), under their
    real names and under the names the grader uses (a symbolic link to an environment)."""
    prefixes = (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    return sorted({_real(p) for p in prefixes} | {Path(os.path.abspath(p)) for p in prefixes})


def course_paths() -> list[Path]:
    """The parts of the course a kernel may read: the helpers package, the corpora and their manifest."""
    import helpers
    from helpers import data

    paths = [_real(Path(helpers.__file__).parent)]
    for path in (data.data_dir(), data.MANIFEST_PATH):
        if path.exists() and not any(_contains(p, _real(path)) for p in paths):
            paths.append(_real(path))
    return paths


@lru_cache(maxsize=None)
def unreadable(folders: tuple[Path, ...]) -> list[Path]:
    """Files in `folders` that another user cannot read: a kernel graded as root's sandbox user cannot."""
    import stat

    return [path for folder in folders for path in ([folder] if folder.is_file() else folder.rglob("*"))
            if path.is_file() and not path.stat().st_mode & stat.S_IROTH and "__pycache__" not in path.parts]


def expected_values_shown(cwd: Path) -> dict[Path, list[Path]]:
    """helpers/expected/ shows the kernel its own assignment's file only: nbgrader grades in
    <autograded>/<student>/<assignment>/, and the visible tests of a later assignment, not yet
    released, are no business of this one."""
    folder = course_paths()[0] / "expected"
    mine = folder / f"{cwd.name.split('_', 1)[0]}.json"
    return {folder: [mine] if mine.is_file() else []} if folder.is_dir() else {}


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_hidden(readable: list[Path], secret: list[Path]) -> None:
    """Refuse a sandbox whose read-only paths would show the course root, the gradebook or a classmate."""
    for path in readable:
        for hidden in secret:
            if _contains(path, hidden):
                raise GradingError(f"the sandbox would show {hidden} to the students' code, because it "
                                   f"is inside {path}, which the kernel needs: keep the course, its gradebook "
                                   "and its submissions out of the Python environment's and the data's folders")


def _system_mounts() -> list[tuple[str, ...]]:
    mounts = [("--ro-bind", "/usr", "/usr")]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            mounts.append(("--symlink", os.readlink(top), top))
        elif os.path.isdir(top):
            mounts.append(("--ro-bind", top, top))
    return mounts + [("--ro-bind-try", path, path) for path in SYSTEM_FILES]


def _with_parents(mounts: list[tuple[str, ...]]) -> list[str]:
    """bubblewrap arguments for `mounts` (option, *arguments, target), each target's missing parent
    folders made first with mode 0755 (bubblewrap would make some 0700, closed to an unprivileged user)."""
    args, made, bound = [], set(), []
    for *option, target in mounts:
        for parent in list(reversed(Path(target).parents))[1:]:
            if parent not in made and not any(b == parent or b in parent.parents for b in bound):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += [*option, target]
        made.add(Path(target))
        if "bind" in option[0]:      # what a bind shows already exists below it
            bound.append(Path(target))
    return args


#: Linux's audit architecture and the number of setsid(2), per machine (seccomp filters are per arch).
SETSID = {"x86_64": (0xC000003E, 112), "aarch64": (0xC00000B7, 157)}
#: x86-64's x32 system calls carry this bit; none is needed, so all are refused.
X32_BIT = 0x40000000


def no_new_sessions_filter(machine: str | None = None) -> bytes | None:
    """A seccomp program (classic BPF, as bubblewrap's --seccomp reads it) that refuses setsid(2)
    with EPERM, and every system call of a foreign architecture; None on an unknown machine.

    Linux's scheduler shares the CPU between sessions (autogroups) before processes: each
    sandbox is one session (--new-session), so a student's 250 busy processes get the CPU share
    of one classmate's kernel, unless each of them could start a session of its own.
    """
    import platform
    import struct

    arch, setsid = SETSID.get(machine or platform.machine(), (None, None))
    if arch is None:
        return None
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06          # BPF_LD|W|ABS, BPF_JMP|JEQ|K, JMP|JGE|K, BPF_RET|K
    allow, refuse = 0x7FFF0000, 0x00050000 | 1           # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program = [
        (load, 0, 0, 4),                     # seccomp_data.arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, refuse),                 # a foreign architecture (i386 through int 0x80)
        (load, 0, 0, 0),                     # seccomp_data.nr
        (jge, 2, 0, X32_BIT),
        (jeq, 1, 0, setsid),
        (ret, 0, 0, allow),
        (ret, 0, 0, refuse),
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def as_root() -> bool:
    return os.geteuid() == 0


def claim_uid() -> tuple[int, int]:
    """A user id no other running sandbox has, and the locked file that holds it until closed.

    A grader running as root gives each kernel its own unprivileged user: Linux counts a user's
    processes (RLIMIT_NPROC) per user and never limits root's, so a shared user would let one
    student's fork bomb starve a classmate graded beside it.
    """
    SLOTS.mkdir(mode=0o700, exist_ok=True)
    for n in range(MAX_SANDBOXES):
        fd = os.open(SLOTS / f"{n}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return FIRST_UID + n, fd
    raise GradingError(f"{MAX_SANDBOXES} sandboxes are running already (locks in {SLOTS})")


def stage_submission(folder: Path, staging: Path) -> None:
    """Copy what the kernel may see of its submission folder: everything but the notebooks.

    The notebook nbgrader executes lies in that folder with its test cells put back, hidden
    tests included; the kernel receives its cells over ZeroMQ and never needs the file.
    """
    shutil.copytree(folder, staging, symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    staging.chmod(0o755)


def command(kernel_argv: list[str], *, cwd: Path, files: Path, sockets: Path, env: dict[str, str], readable: list[Path],
            uid: int | None, memory: int, processes: int, file_size: int, scratch: int,
            seccomp: Path | None = None, only: dict[Path, list[Path]] | None = None) -> list[str]:
    """The bubblewrap command line that runs `kernel_argv` in a sandbox (see the module's docstring).

    `cwd` is the submission folder; the kernel works at the same path, in a private copy of
    `files` (stage_submission's copy of the folder).
    `sockets` is the private folder of the kernel's connection file and ipc sockets. With `uid`
    (a grader running as root) the kernel runs as that user, without a user namespace; without,
    as user 1000 of its own user namespace. `seccomp` is a file holding no_new_sessions_filter().
    `only` maps a readable folder to the only files of it the kernel sees.
    """
    # bubblewrap reads a seccomp program from an open file: the shell opens it as descriptor 9.
    opener = ["/bin/sh", "-c", 'exec 9<"$1" && shift && exec "$@"', "sandbox", str(seccomp)] if seccomp else []
    args = [*opener, shutil.which("bwrap") or "bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv"]
    if seccomp:
        args += ["--seccomp", "9"]
    if uid is None:
        args += ["--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL"]
    else:
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    # /tmp first: what is bound below it (a course or an environment in /tmp) must come after.
    mounts = _system_mounts() + [("--perms", "1777", "--size", str(scratch), "--tmpfs", "/tmp")] + [
        ("--ro-bind", str(path), str(path)) for path in readable] + [
        mount for folder, files in (only or {}).items()
        for mount in [("--tmpfs", str(folder))] + [("--ro-bind", str(f), str(f)) for f in files]] + [
        ("--proc", "/proc"), ("--dev", "/dev"),
        ("--perms", "1777", "--size", str(scratch), "--tmpfs", "/dev/shm"),
        ("--bind", str(sockets), str(sockets)),
        ("--ro-bind", str(files), SUBMISSION_MOUNT),
        ("--perms", "1777", "--size", str(scratch), "--tmpfs", str(cwd))]
    args += _with_parents(mounts) + ["--chdir", str(cwd), "--"]
    if uid is not None:   # drop root for good: no capabilities left to gain back
        args += [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    args += [shutil.which("prlimit") or "prlimit", f"--as={memory}", f"--nproc={processes}",
             f"--fsize={file_size}", "--nofile=1024", "--core=0", "--"]
    copy = f'cp -R {SUBMISSION_MOUNT}/. . && exec "$@" >/dev/null'   # stdout: only ipykernel's banner
    return args + ["/bin/sh", "-c", copy, "sandbox", *kernel_argv]


class SandboxKernelManager(AsyncKernelManager):
    """nbgrader's kernel manager, with every kernel in a bubblewrap sandbox (the module's docstring)."""

    enabled = Bool(True, config=True,
                   help="Run each kernel in the sandbox. False (`--no-sandbox`) runs students' code with the "
                        "grader's rights: only for code you trust.")
    memory_limit = Unicode("4G", config=True, help="Address space of the kernel process (e.g. 4G).")
    max_processes = Integer(256, config=True, help="Processes and threads in one sandbox.")
    max_file_size = Unicode("256M", config=True, help="Largest file the kernel may write.")
    scratch_size = Unicode("256M", config=True,
                           help="Size of the kernel's working folder, and of its /tmp (memory-backed).")
    read_only_paths = List(Unicode(), config=True,
                           help="Further folders the kernel may read (it never sees the course otherwise).")

    _sockets: Path | None = None
    _files: Path | None = None
    _uid_lock: int | None = None

    def _secret_paths(self, cwd: Path) -> list[Path]:
        """What must stay invisible: the course root, the classmates' folders, the gradebook."""
        course = self.config.get("CourseDirectory", {})
        paths = [_real(course.get("root") or os.getcwd()), _real(cwd).parent]
        db_url = str(course.get("db_url", ""))
        if db_url.startswith("sqlite:///"):
            paths.append(_real(db_url[len("sqlite:///"):]))
        return paths

    def _kernel_environment(self, launch_env: dict[str, str], kernel_argv: list[str]) -> dict[str, str]:
        env = {key: launch_env[key] for key in SANDBOX_VARIABLES if key in launch_env}
        env.update(self.kernel_spec.env or {})
        bins = [str(Path(kernel_argv[0]).parent)] if os.path.isabs(kernel_argv[0]) else []
        # The kernel imports the very helpers package the grader uses (also from a PYTHONPATH).
        env["PYTHONPATH"] = str(course_paths()[0].parent)
        env.update(PATH=os.pathsep.join([*bins, str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin",
                                         "/bin"]),
                   HOME="/tmp", USER="student", LOGNAME="student", MALLOC_ARENA_MAX="2")
        env.setdefault("LANG", "C.UTF-8")
        return env

    async def _async_pre_start_kernel(self, **kw):
        if not self.enabled:
            self.log.warning("NO SANDBOX: this kernel runs the student's code with the grader's rights "
                             "(SandboxKernelManager.enabled=False, `--no-sandbox`)")
            self._make_private_folders()   # its sockets still: no TCP port to lose (helpers/kernels.py)
            return await super()._async_pre_start_kernel(**kw)
        check_available()
        self._make_private_folders()
        kernel_argv, kw = await super()._async_pre_start_kernel(**kw)   # writes the connection file
        cwd = _real(kw.get("cwd") or os.getcwd())
        readable = python_paths() + course_paths() + [_real(p) for p in self.read_only_paths]
        check_hidden(readable, self._secret_paths(cwd))
        stage_submission(cwd, self._files)
        self.kernel_spec.interrupt_mode = "message"
        env = self._kernel_environment(kw.get("env") or dict(os.environ), kernel_argv)
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}   # bubblewrap's own; it clears it inside
        sandboxed = command(kernel_argv, cwd=cwd, files=self._files, sockets=self._sockets, env=env,
                            readable=readable, uid=self._own_user(), seccomp=self._seccomp_file(),
                            only=expected_values_shown(cwd), **self._limits())
        return sandboxed, kw

    def _make_private_folders(self) -> None:
        """The kernel's connection file and ipc sockets, and the staged files of its submission."""
        self._remove_private_folders()
        self._sockets = Path(tempfile.mkdtemp(prefix="rnn-kit-kernel-"))
        self._files = Path(tempfile.mkdtemp(prefix="rnn-kit-files-"))
        if not socket_path_fits(self._sockets):
            self._remove_private_folders()
            raise GradingError(f"the temporary folder {tempfile.gettempdir()} has too long a path for the kernel's "
                               f"sockets (a unix socket's path has at most {SOCKET_PATH_LIMIT} characters): set "
                               "TMPDIR to a shorter folder, e.g. TMPDIR=/tmp")
        use_private_sockets(self, self._sockets)

    def _own_user(self) -> int | None:
        """Grading as root: a user of the kernel's own, who owns its sockets; else None."""
        if not as_root():
            return None
        closed = unreadable(tuple(course_paths()))
        if closed:
            raise GradingError(f"the sandboxed kernel runs as another user and cannot read {len(closed)} files, "
                               f"e.g. {closed[0]}: make them readable (chmod -R o+rX "
                               f"{' '.join(str(p) for p in course_paths())})")
        uid, self._uid_lock = claim_uid()
        for path in (self._sockets, Path(self.connection_file)):
            os.chown(path, uid, uid)
        return uid

    def _seccomp_file(self) -> Path | None:
        program = no_new_sessions_filter()
        if program is None:
            self.log.warning("no seccomp program for this machine: a kernel may start sessions of its own")
            return None
        path = Path(f"{self._sockets}.seccomp")
        path.write_bytes(program)
        return path

    def _limits(self) -> dict[str, int]:
        return dict(memory=size_in_bytes(self.memory_limit), processes=self.max_processes,
                    file_size=size_in_bytes(self.max_file_size), scratch=size_in_bytes(self.scratch_size))

    def _remove_private_folders(self) -> None:
        for folder in (self._sockets, self._files):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        if self._sockets is not None:
            Path(f"{self._sockets}.seccomp").unlink(missing_ok=True)
        self._sockets = self._files = None
        if self._uid_lock is not None:
            os.close(self._uid_lock)
            self._uid_lock = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._remove_private_folders()

    cleanup_resources = _async_cleanup_resources   # see helpers/kernels.py: a kernel that died at start


class SandboxedExecute(Execute):
    """nbgrader's Execute preprocessor with its kernels in the sandbox.

    nbgrader's own Execute passes `kernel_manager_class` as an argument, which beats any
    configuration; nbgrader_config.py therefore names this class in the autograde pipeline.
    `Execute.*` settings (timeouts, interrupts) apply to it unchanged.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
