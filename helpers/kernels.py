"""Kernels that talk over unix sockets in a folder of their own, never over TCP ports.

jupyter_client chooses a kernel's five TCP ports by binding port 0 and letting the port go; the
kernel binds it again a moment later. Any other process on the machine (a second kernel starting,
a browser, a database client) can take the port in between, and the kernel dies with "Address
already in use" before it replies. Running notebooks side by side (`kit.py check`, the release,
the tests) makes that window common enough to fail a run now and then. A unix socket in a private
folder cannot be taken.

Windows has no unix sockets for zmq: there the kernels keep TCP.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def use_private_sockets(manager, folder: Path | str) -> None:
    """Points a jupyter_client kernel manager at ipc sockets (and its connection file) in `folder`."""
    manager.transport = "ipc"
    manager.connection_file = str(Path(folder) / "kernel.json")
    manager.ip = str(Path(folder) / "kernel")


@contextmanager
def private_kernel(kernel_name: str = "python3", **kwargs):
    """An AsyncKernelManager for `NotebookClient(km=...)`, on private sockets; the folder goes afterwards.

    `kwargs` go to the manager (e.g. `kernel_spec_manager`). The kernel is started and shut down by
    whoever uses the manager, inside the `with` block.
    """
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager(kernel_name=kernel_name, **kwargs)
    if os.name != "posix":
        yield manager
        return
    # A short folder: a unix socket's path must stay under about 100 characters.
    with tempfile.TemporaryDirectory(prefix="rnn-kit-kernel-") as folder:
        use_private_sockets(manager, folder)
        yield manager
