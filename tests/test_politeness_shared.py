"""Per-host politeness holds across processes, as under `newsdesk up` with several workers."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from newsdesk.sources.http import Fetcher, FetchPolicy
from newsdesk.sources.politeness import MachineHostLimiter
from tests.fixtureserver import Reply


def _overlap(requests) -> int:
    events = sorted(
        [(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests], key=lambda e: (e[0], e[1])
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


class _Recorded(MachineHostLimiter):
    """Writes the start time reserved for each request: the spacing the limiter promises
    is between reservations (made under one file lock by all processes). The thread then
    sleeps until its start, and on a loaded machine it may wake late, which the server
    sees, but the next request's reservation does not move earlier for it."""

    def _wait_turn(self, host: str) -> float:
        start = super()._wait_turn(host)
        with open(self.directory / f"grants-{os.getpid()}", "a") as out:
            out.write(f"{start!r}\n")
        return start


def _grants(directory: Path) -> list[float]:
    return sorted(float(line) for path in directory.glob("grants-*") for line in path.read_text().split())


def _worker(directory: str, url: str, count: int, delay: float) -> None:
    policy = FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), obey_robots=False, host_concurrency=2, host_delay=delay)
    limiter = _Recorded(Path(directory), concurrency=2, delay=delay, max_concurrency=16)
    with Fetcher(policy, limiter) as fetcher, ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: fetcher.get(url), range(count)))


def _run_processes(directory: Path, url: str, processes: int, count: int, delay: float) -> None:
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_worker, args=(str(directory), url, count, delay)) for _ in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0


def test_two_processes_share_the_host_limits(fresh_server, tmp_path):
    fresh_server.route("/held", Reply(200, b"ok", delay=0.25))
    _run_processes(tmp_path, fresh_server.url("/held"), processes=3, count=4, delay=0.1)
    requests = fresh_server.hits("/held")
    assert len(requests) == 12
    assert _overlap(requests) == 2  # not 2 per process
    grants = _grants(tmp_path)
    assert len(grants) == 12
    assert min(b - a for a, b in itertools.pairwise(grants)) >= 0.1 - 0.005


def test_a_killed_process_frees_its_slots(fresh_server, tmp_path):
    fresh_server.route("/hang", Reply(200, b"ok", delay=30))
    fresh_server.route("/quick", Reply(200, b"ok"))
    context = multiprocessing.get_context("spawn")
    stuck = context.Process(target=_worker, args=(str(tmp_path), fresh_server.url("/hang"), 2, 0.0))
    stuck.start()
    deadline = time.monotonic() + 30
    while len(fresh_server.hits("/hang")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fresh_server.hits("/hang")) == 2  # both slots of the host are held
    os.kill(stuck.pid, signal.SIGKILL)
    stuck.join()
    started = time.monotonic()
    _run_processes(tmp_path, fresh_server.url("/quick"), processes=1, count=2, delay=0.0)
    assert time.monotonic() - started < 10
    assert len(fresh_server.hits("/quick")) == 2
