"""A web server killed under load is a short pause for readers, not a burst of errors.

Runs the real `newsdesk up` on a free port with a fresh data directory, sends requests
from a few threads, SIGKILLs gunicorn's master (and, with nginx in front, nginx's
master too), and checks that hardly any request fails, that the site answers again
within seconds, and that no worker of the dead master survives it.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from newsdesk.supervisor import wait_for_http
from newsdesk.web import front

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 4


def children(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _stat(int(entry)) is not None:
            state, ppid = _stat(int(entry))
            if ppid == pid and state != "Z":
                found.append(int(entry))
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def master(supervisor: int, word: str) -> int:
    matches = [pid for pid in children(supervisor) if word in command_of(pid)]
    assert len(matches) == 1, (word, [command_of(p) for p in children(supervisor)])
    return matches[0]


@dataclass
class Load:
    """Readers requesting a page that bypasses nginx's cache, so that every request
    reaches gunicorn; each result is (start, seconds, status or error)."""

    port: int
    results: list[tuple[float, float, object]] = field(default_factory=list)
    stopping: bool = False

    def __post_init__(self) -> None:
        self.threads = [threading.Thread(target=self._read, daemon=True) for _ in range(CLIENTS)]

    def _read(self) -> None:
        deadline = time.monotonic() + 60  # bounded even if the test forgets to stop it
        while not self.stopping and time.monotonic() < deadline:
            start = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", "/", headers={"Cookie": "sessionid=none"})
                response = conn.getresponse()
                response.read()
                outcome: object = response.status
            except (OSError, http.client.HTTPException) as exc:
                outcome = repr(exc)
            finally:
                conn.close()
            self.results.append((start, time.monotonic() - start, outcome))
            time.sleep(0.002)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping = True
        for thread in self.threads:
            thread.join(timeout=40)

    def failures(self) -> list:
        return [r for r in self.results if r[2] != 200]

    def since(self, moment: float) -> list:
        return [r for r in self.results if r[0] + r[1] >= moment]


def kill_master_under_load(supervisor: int, port: int, word: str) -> dict:
    """SIGKILL the master whose command line contains `word` while readers read; return
    what they saw."""
    old = master(supervisor, word)
    workers = children(old)
    assert workers, f"{word} has no workers"
    with Load(port) as load:
        time.sleep(2)
        killed_at = time.monotonic()
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 3
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = [w for w in workers if alive(w)]
        time.sleep(6)
    answered = [r for r in load.since(killed_at) if r[2] == 200]
    print("failed:", [(round(r[0] - killed_at, 3), round(r[1], 3), r[2]) for r in load.failures()][:20])
    return {
        "total": len(load.results),
        "failures": load.failures(),
        "orphans": orphans,
        "recovered_after": min(r[0] + r[1] for r in answered) - killed_at if answered else None,
        "longest_wait": max(r[1] for r in load.since(killed_at)),
        "new_master": master(supervisor, word) if word in " ".join(map(command_of, children(supervisor))) else None,
        "old_master": old,
    }


@pytest.fixture
def site(tmp_path, request):
    """`newsdesk up` with the front named by the test's parameter; yields (pid, port)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
        "NEWSDESK_DATA_DIR": str(tmp_path / "data"),
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
        "NEWSDESK_WARM_UP": "0",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    port = front.free_port()
    log = tmp_path / "up.log"  # a file, not a pipe: nobody reads nginx's access log meanwhile
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsdesk",
                "up",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "0",
                "--no-scheduler",
                "--web-workers",
                "2",
                "--front",
                request.param,
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for_http(f"127.0.0.1:{port}", 180, lambda: proc.poll() is None)
        yield proc.pid, port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        front.remove_runtime(tmp_path / "data" / "nginx")
        errors = tmp_path / "data" / "nginx" / "error.log"
        if errors.exists():
            print("nginx:", "\n".join(errors.read_text(errors="replace").splitlines()[-20:]))
        lines = log.read_text(errors="replace").splitlines()
        print("\n".join(line for line in lines if not line.startswith("127.0.0.1 - -"))[-3000:])


def assert_brief_pause(seen: dict, *, most_failures: int) -> None:
    assert not seen["orphans"], f"workers outlived their master: {seen['orphans']}"
    assert seen["new_master"] and seen["new_master"] != seen["old_master"], "no new master"
    assert seen["recovered_after"] is not None and seen["recovered_after"] < 8, seen["recovered_after"]
    assert len(seen["failures"]) <= max(most_failures, seen["total"] // 100), seen["failures"][:10]


@pytest.mark.slow
@pytest.mark.skipif(front.nginx_binary() is None, reason="nginx is not installed")
@pytest.mark.parametrize("site", ["nginx"], indirect=True)
def test_killed_masters_behind_nginx_are_a_pause(site):
    supervisor, port = site
    seen = kill_master_under_load(supervisor, port, "gunicorn")
    print(
        f"gunicorn master killed: {len(seen['failures'])} of {seen['total']} requests failed, "
        f"answered again after {seen['recovered_after']:.2f} s, longest wait {seen['longest_wait']:.2f} s"
    )
    # A request that had its headers relayed when the worker died cannot be retried.
    assert_brief_pause(seen, most_failures=CLIENTS // 2)
    seen = kill_master_under_load(supervisor, port, "nginx: master")
    print(
        f"nginx master killed: {len(seen['failures'])} of {seen['total']} requests failed, "
        f"answered again after {seen['recovered_after']:.2f} s, longest wait {seen['longest_wait']:.2f} s"
    )
    assert_brief_pause(seen, most_failures=CLIENTS // 2)  # its workers finish what they hold


@pytest.mark.slow
@pytest.mark.parametrize("site", ["gunicorn"], indirect=True)
def test_killed_gunicorn_alone_is_a_pause(site):
    """Without nginx the requests in flight in the killed workers fail (nothing retries
    them), at most one per reader; the rest wait in the inherited socket's backlog."""
    supervisor, port = site
    seen = kill_master_under_load(supervisor, port, "gunicorn")
    print(
        f"gunicorn alone, master killed: {len(seen['failures'])} of {seen['total']} requests failed, "
        f"answered again after {seen['recovered_after']:.2f} s, longest wait {seen['longest_wait']:.2f} s"
    )
    assert_brief_pause(seen, most_failures=CLIENTS)
