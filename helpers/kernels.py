"""Kernels that talk over unix sockets in a folder of their own, never over TCP ports.

jupyter_client chooses a kernel's five TCP ports by binding port 0 and letting the port go; the
kernel binds it again a moment later. Any other process on the machine (a second kernel starting,
a browser, a database client) can take the port in between, and the kernel dies with "Address
already in use" before it replies. Running notebooks side by side (`kit.py check`, the release,
the tests) makes that window common enough to fail a run now and then. A unix socket in a private
folder cannot be taken.

Windows has no unix sockets for zmq, and a socket's path has at most about 100 characters: on
Windows, or where the temporary folder's path is too long for that, the kernels keep TCP.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

#: The longest socket path used (Linux allows 107 bytes, macOS 103), for the fifth socket of a kernel.
SOCKET_PATH_LIMIT = 100


def socket_path_fits(folder: Path | str) -> bool:
    """Whether the sockets a kernel makes in `folder` (`kernel-1`, ...) have short enough paths."""
    return len(os.path.join(folder, "kernel-99")) <= SOCKET_PATH_LIMIT


def use_private_sockets(manager, folder: Path | str) -> None:
    """Points a jupyter_client kernel manager at ipc sockets (and its connection file) in `folder`."""
    manager.transport = "ipc"
    manager.connection_file = str(Path(folder) / "kernel.json")
    manager.ip = str(Path(folder) / "kernel")


class PrivateSocketKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, on sockets in a folder of its own that goes with the kernel.

    Give it to nbclient as `NotebookClient(..., kernel_manager_class=PrivateSocketKernelManager)`:
    the client then owns the manager, and shuts the kernel down when the notebook has run (a manager
    passed as `km=` stays running unless `execute(cleanup_kc=True)`).
    """

    _socket_folder: str | None = None

    async def _async_pre_start_kernel(self, **kw):
        # A restart keeps the folder: the clients already connected know these sockets.
        if os.name == "posix" and self._socket_folder is None:
            folder = tempfile.mkdtemp(prefix="rnn-kit-kernel-")
            if socket_path_fits(folder):
                self._socket_folder = folder
                use_private_sockets(self, folder)
            else:
                os.rmdir(folder)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._socket_folder is not None:
            shutil.rmtree(self._socket_folder, ignore_errors=True)
            self._socket_folder = None

    # AsyncKernelManager binds its public name to the base function itself, and nbclient calls the public
    # name alone for a kernel that died at start: without this, the folder would outlive it.
    cleanup_resources = _async_cleanup_resources
