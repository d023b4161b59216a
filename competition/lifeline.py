"""Processes of the server that must not outlive their parent: uvicorn's workers (`--workers N`)
and the judging processes. A SIGKILL of the parent runs no shutdown code, so each child watches.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_S = 1.0


def exit_with_parent_thread(parent: int, stop) -> None:
    """Call `stop()` once `parent` is no longer this process's parent (it died; we were reparented).
    A daemon thread polling getppid(): right for a process started from any thread of its parent."""
    def watch():
        while os.getppid() == parent:
            time.sleep(POLL_S)
        stop()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def terminate_with_parent(parent: int) -> None:
    """SIGTERM this process as soon as `parent` dies (uvicorn then shuts the worker down cleanly).

    On Linux the kernel sends it (prctl PR_SET_PDEATHSIG). That signal follows the parent's
    *thread* that started us; uvicorn starts and restarts its workers from its main thread, which
    lives as long as the master. Elsewhere a watching thread sends it instead."""
    def terminate():
        os.kill(os.getpid(), signal.SIGTERM)

    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the request: no signal will come
            terminate()
    else:
        exit_with_parent_thread(parent, terminate)
