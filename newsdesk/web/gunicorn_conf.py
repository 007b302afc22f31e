"""gunicorn hooks for `newsdesk up` (loaded with `--config python:newsdesk.web.gunicorn_conf`).

A gunicorn worker notices that its master died only at its next loop turn and then
finishes its requests, so after a SIGKILL of the master the orphaned workers lived on for
seconds, still holding the listening socket. Linux can tie a process's life to its
parent's instead, with prctl(PR_SET_PDEATHSIG): each worker asks for SIGKILL when its
master dies. (The supervisor of `newsdesk up` asks the same of the master, with SIGTERM,
for when the supervisor itself dies, and restarts a dead master on the same listening
socket; nginx in front retries the requests a killed worker was serving.)

Elsewhere than Linux the hook does nothing: the supervisor still kills the dead master's
process group before it restarts it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int, parent: int | None = None) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies. False when
    the platform cannot. When `parent` (the expected parent's pid) already died before
    the request took effect the kernel never sends the signal, so it is sent now."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)  # the running program's libc: no lookup after fork
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return True


def post_fork(server: Arbiter, worker: Worker) -> None:
    """A worker dies with its master: no orphan keeps serving or holding the socket."""
    die_with_parent(signal.SIGKILL, worker.ppid)
