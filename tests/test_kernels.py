"""The kernels the kit starts listen on unix sockets of their own, never on a TCP port another process could take."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets.config import Config

from helpers.instructor.sandbox import SandboxKernelManager
from helpers.kernels import private_kernel

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
print(json.dumps({"connection": connection, "tcp": tcp, "unix": unix}))
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


def test_the_check_sees_the_ports_of_a_tcp_kernel(tmp_path):
    """jupyter_client's default: five ports chosen by the client and bound by the kernel a moment later."""
    seen = _listening(tmp_path, km=AsyncKernelManager(kernel_name="python3"))
    assert seen["connection"]["transport"] == "tcp"
    assert {seen["connection"][p] for p in PORTS} <= set(seen["tcp"]), seen
    with pytest.raises(AssertionError):
        _on_private_sockets(seen)


def test_a_private_kernel_listens_on_its_own_unix_sockets_and_leaves_no_folder(tmp_path):
    with private_kernel() as km:
        seen = _listening(tmp_path, km=km)
        folder = Path(km.connection_file).parent
        assert Path(seen["connection"]["ip"]).parent == folder and folder.is_dir()
        assert len(str(folder / "kernel-99999")) < 100, "a unix socket's path must fit in sun_path"
    _on_private_sockets(seen)
    assert not folder.exists()


def test_the_graders_kernel_without_the_sandbox_is_on_private_sockets_too(tmp_path):
    config = Config({"SandboxKernelManager": {"enabled": False}})
    _on_private_sockets(_listening(tmp_path, kernel_name="python3", kernel_manager_class=SandboxKernelManager,
                                   config=config))
