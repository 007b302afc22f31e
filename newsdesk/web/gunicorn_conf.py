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

import signal
from typing import TYPE_CHECKING

from newsdesk.supervisor import die_with_parent

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker


def post_fork(server: Arbiter, worker: Worker) -> None:
    """A worker dies with its master: no orphan keeps serving or holding the socket."""
    die_with_parent(signal.SIGKILL, worker.ppid)
