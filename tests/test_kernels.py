"""The kernels the kit starts listen on unix sockets of their own, never on a TCP port another process could take."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from helpers.instructor.course import GradingError
from helpers.instructor.sandbox import SandboxKernelManager
from helpers.kernels import PrivateSocketKernelManager

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="reads Linux's /proc")

# Run inside the kernel: its connection file, the TCP ports its own process listens on, and the paths of
# the unix sockets it holds. (ipykernel also binds a port of its own for subprocesses' output, with zmq's
# bind_to_random_port, which binds as it chooses: that one cannot be lost.)
LISTENING = """\
import json, os, sys
mine = set()
for fd in os.listdir("/proc/self/fd"):
    try:
        mine.add(os.readlink(f"/proc/self/fd/{fd}"))
    except FileNotFoundError:   # the listing's own descriptor, closed by now
        pass
tcp = []
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).read().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and f"socket:[{fields[9]}]" in mine:
            tcp.append(int(fields[1].rsplit(":", 1)[1], 16))
unix = [line.split()[7] for line in open("/proc/net/unix").read().splitlines()[1:]
        if len(line.split()) > 7 and f"socket:[{line.split()[6]}]" in mine]
connection = json.load(open(sys.argv[sys.argv.index("-f") + 1]))
print(json.dumps({"connection": connection, "tcp": tcp, "unix": unix, "pid": os.getpid()}))
"""
PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


def _listening(tmp_path: Path, **client) -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LISTENING)])
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}, **client).execute()
    return json.loads(nb.cells[0].outputs[0]["text"])


def _on_private_sockets(seen: dict) -> None:
    connection = seen["connection"]
    assert connection["transport"] == "ipc", connection
    assert not {connection[p] for p in PORTS} & set(seen["tcp"]), seen
    assert set(seen["unix"]) == {f"{connection['ip']}-{connection[p]}" for p in PORTS}, seen


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "\nState:\tZ" in status.read_text()


def test_the_check_sees_the_ports_of_a_tcp_kernel(tmp_path):
    """jupyter_client's default: five ports chosen by the client and bound by the kernel a moment later."""
    seen = _listening(tmp_path, kernel_name="python3")
    assert seen["connection"]["transport"] == "tcp"
    assert {seen["connection"][p] for p in PORTS} <= set(seen["tcp"]), seen
    with pytest.raises(AssertionError):
        _on_private_sockets(seen)


def test_a_private_kernel_listens_on_its_own_unix_sockets_and_leaves_nothing_behind(tmp_path):
    seen = _listening(tmp_path, kernel_name="python3", kernel_manager_class=PrivateSocketKernelManager)
    _on_private_sockets(seen)
    folder = Path(seen["connection"]["ip"]).parent
    assert folder.name.startswith("rnn-kit-kernel-") and len(str(folder / "kernel-99999")) < 100, \
        "a unix socket's path must fit in sun_path"
    assert not folder.exists(), "the socket folder outlived the kernel"
    assert _gone(seen["pid"]), "the kernel still runs after the notebook"


def test_the_graders_kernel_without_the_sandbox_is_on_private_sockets_too(tmp_path):
    config = Config({"SandboxKernelManager": {"enabled": False}})
    seen = _listening(tmp_path, kernel_name="python3", kernel_manager_class=SandboxKernelManager, config=config)
    _on_private_sockets(seen)
    assert not Path(seen["connection"]["ip"]).parent.exists() and _gone(seen["pid"])


@pytest.fixture
def scratch(monkeypatch):
    """The temporary folder the managers make their folders in, short enough for sockets."""
    folder = Path(tempfile.mkdtemp(prefix="rnn-kit-test-"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("manager", [PrivateSocketKernelManager, SandboxKernelManager])
def test_a_kernel_that_dies_at_start_leaves_no_folder(manager, scratch, tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "dies"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "raise SystemExit(1)", "-f", "{connection_file}"],
        "display_name": "dies at start", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    client = NotebookClient(nb, kernel_name="dies", kernel_manager_class=manager, startup_timeout=30,
                            config=Config({"SandboxKernelManager": {"enabled": False}}))
    with pytest.raises(RuntimeError, match="Kernel died"):
        client.execute()
    assert not list(scratch.iterdir()), "the kernel's folders outlived it"


def test_where_sockets_cannot_have_so_long_a_path_the_kernel_keeps_tcp(scratch, tmp_path):
    deep = scratch / ("x" * 80)
    deep.mkdir()
    tempfile.tempdir = str(deep)   # the fixture puts the original back
    seen = _listening(tmp_path, kernel_name="python3", kernel_manager_class=PrivateSocketKernelManager)
    assert seen["connection"]["transport"] == "tcp" and not list(deep.iterdir())


def test_the_sandbox_says_which_temporary_folder_is_too_long(scratch, tmp_path):
    deep = scratch / ("x" * 80)
    deep.mkdir()
    tempfile.tempdir = str(deep)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    client = NotebookClient(nb, kernel_name="python3", kernel_manager_class=SandboxKernelManager,
                            config=Config({"SandboxKernelManager": {"enabled": False}}))
    with pytest.raises(GradingError, match=f"temporary folder {deep}.*TMPDIR=/tmp"):
        client.execute()
    assert not list(deep.iterdir())
