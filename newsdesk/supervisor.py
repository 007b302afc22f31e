"""The process that keeps `newsdesk up`'s children running, on the standard library only.

`newsdesk up` prepares the data directory, binds the listening sockets and works out
what to run with Django loaded; then it replaces itself (exec, same pid, the sockets
inherited) with `python -m newsdesk.supervisor PLAN`. The supervisor lives as long as the
site, and with Django and our settings loaded it held 79 MB of the small profile's 700;
without them it holds about 10.

PLAN is a JSON file (removed once read): {"commands": {name: argv}, "envs": {name: {..}},
"waits": {name: "HOST:PORT"}, "pass_fds": {name: [fd, ..]}, "groups": {name: signal},
"announce": "HOST:PORT" or null, "remove": [paths to delete at exit]}.
"""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

PR_SET_PDEATHSIG = 1


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


def wait_for_http(address: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """True once an HTTP server on HOST:PORT answers a request (any status). Unlike
    waiting for the port this waits for the server itself, not a socket whose backlog
    accepts connections for a server still starting."""
    host, port = address.rsplit(":", 1)
    host = host.strip("[]") or "127.0.0.1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        conn = http.client.HTTPConnection(host, int(port), timeout=2)
        try:
            conn.request("GET", "/robots.txt")
            conn.getresponse()
            return True
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
        finally:
            conn.close()
    return False


def say(message: str) -> None:
    print(message, flush=True)


class Supervisor:
    """Keep child processes running; stop them all together.

    A child that exits is restarted at once (a reader waits for the web server, not for
    the supervisor), and only a child that keeps dying within STABLE seconds of its start
    waits, doubling from RETRY up to MAX_RETRY, so a broken one does not spin the CPU.
    Children named in `groups` (the web server and nginx: a master with its workers) run
    in a process group of their own; when the master exits, whatever is left of its group
    gets the signal `groups` names (SIGKILL for gunicorn; SIGQUIT lets nginx's workers
    finish the requests they hold, as their successor serves the same socket), so no
    orphaned worker lingers, and the master gets SIGTERM should the supervisor itself
    die (PR_SET_PDEATHSIG). `pass_fds` are inherited
    by a child, as the listening sockets the web servers share across their restarts.
    """

    POLL = 0.05  # seconds between looks at the children: how soon a death is noticed
    STABLE = 10.0
    RETRY = 0.25
    MAX_RETRY = 30.0

    def __init__(
        self,
        commands: dict[str, list[str]],
        out: Callable[[str], None] = say,
        envs: dict[str, dict[str, str]] | None = None,
        waits: dict[str, str] | None = None,
        pass_fds: dict[str, tuple[int, ...]] | None = None,
        groups: dict[str, int] | None = None,
    ) -> None:
        self.commands = commands
        self.out = out
        self.envs = envs or {}
        self.waits = waits or {}  # name -> HOST:PORT where an HTTP server must answer first
        self.pass_fds = pass_fds or {}
        self.groups = groups or {}  # name -> signal for what is left of its process group
        self.children: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}
        self.quick_exits: dict[str, int] = {}
        self.restart_at: dict[str, float] = {}
        self.stopping = False

    def run(self) -> None:
        for name in self.commands:
            if name in self.waits and not wait_for_http(self.waits[name], 120, lambda: not self.stopping):
                if self.stopping:
                    break
                self.out(f"{self.waits[name]} did not answer within 120 s; starting {name} anyway")
            self._start(name)
        while not self.stopping:
            self._watch()
            time.sleep(self.POLL)
        self._terminate()

    def stop(self) -> None:
        self.stopping = True

    def _watch(self) -> None:
        now = time.monotonic()
        for name, child in list(self.children.items()):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self._start(name)
            elif child.poll() is not None:
                self._signal_group(name, child, self.groups.get(name))
                delay = self._restart_delay(name, now)
                self.out(f"{name} exited with {child.returncode}; restarting" + (f" in {delay:g} s" if delay else ""))
                self.restart_at[name] = now + delay

    def _restart_delay(self, name: str, now: float) -> float:
        """0 after a child that ran for a while, or died young once; then a doubling wait
        while it keeps dying young."""
        if now - self.started[name] >= self.STABLE:
            self.quick_exits[name] = 0
        self.quick_exits[name] = self.quick_exits.get(name, 0) + 1
        if self.quick_exits[name] == 1:
            return 0.0
        return min(self.MAX_RETRY, self.RETRY * 2 ** (self.quick_exits[name] - 2))

    def _start(self, name: str) -> None:
        env = {**os.environ, **self.envs[name]} if self.envs.get(name) else None
        own_group = name in self.groups
        self.children[name] = subprocess.Popen(
            self.commands[name],
            env=env,
            pass_fds=self.pass_fds.get(name, ()),
            process_group=0 if own_group else None,
            preexec_fn=partial(die_with_parent, signal.SIGTERM, os.getpid()) if own_group else None,
        )
        self.started[name] = time.monotonic()

    def _signal_group(self, name: str, child: subprocess.Popen, sig: int | None) -> None:
        """Send `sig` to what is left of an exited master's process group (its workers)."""
        if name not in self.groups or sig is None:
            return
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _terminate(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            self._signal_group(name, child, signal.SIGKILL)


def announce(address: str, supervisor: Supervisor) -> None:
    """The address, once the site answers there (not while it is still starting)."""
    local = address.replace("0.0.0.0:", "127.0.0.1:").replace("[::]:", "[::1]:")
    if wait_for_http(local, 300, lambda: not supervisor.stopping):
        say(f"newsdesk is up on http://{address}/ (Ctrl-C stops it)")


def exec_plan(plan: dict, directory: Path) -> None:
    """Replace this process with the supervisor running `plan` (written to a file in
    `directory`); the file descriptors in its pass_fds must be inheritable."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"supervisor-plan-{os.getpid()}.json"
    path.write_text(json.dumps(plan))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "newsdesk.supervisor", str(path)])


def main(argv: list[str]) -> None:
    path = Path(argv[0])
    plan = json.loads(path.read_text())
    path.unlink(missing_ok=True)
    supervisor = Supervisor(
        plan["commands"],
        envs=plan.get("envs"),
        waits=plan.get("waits"),
        pass_fds={name: tuple(fds) for name, fds in plan.get("pass_fds", {}).items()},
        groups=plan.get("groups"),
    )
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
    signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
    if plan.get("announce"):
        threading.Thread(target=announce, args=(plan["announce"], supervisor), name="announce", daemon=True).start()
    try:
        supervisor.run()
    finally:
        for leftover in plan.get("remove", []):
            target = Path(leftover)
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)


if __name__ == "__main__":
    main(sys.argv[1:])
