"""How hard newsdesk may knock: per-host concurrency and spacing, plus a global cap.

The Fetcher only asks a HostLimiter for a slot, so a limiter shared between worker
processes (kept in a cache or the database) can be added beside LocalHostLimiter without
touching the fetcher.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

__all__ = ["HostLimiter", "LocalHostLimiter", "MachineHostLimiter"]


class HostLimiter(Protocol):
    def slot(self, host: str) -> AbstractContextManager[None]:
        """Block until a request to `host` may start; the request runs inside the block."""
        ...


class LocalHostLimiter:
    """Limits for the threads of one process.

    All three conditions (global cap, per-host concurrency, per-host delay since the last
    start) are checked together under one lock, so a thread waiting for a busy host holds
    no global slot and start times are spaced exactly as promised.
    """

    _PRUNE_ABOVE = 1024  # hosts remembered before idle ones are forgotten

    def __init__(self, concurrency: int, delay: float, max_concurrency: int) -> None:
        if concurrency < 1 or max_concurrency < 1 or delay < 0:
            raise ValueError("concurrency limits must be >= 1 and delay >= 0")
        self.concurrency = concurrency
        self.delay = delay
        self.max_concurrency = max_concurrency
        self._cond = threading.Condition()
        self._in_flight: dict[str, int] = {}
        self._last_start: dict[str, float] = {}
        self._total = 0

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        host = host.lower()
        with self._cond:
            while (wait := self._wait_time(host)) != 0:
                self._cond.wait(wait)
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self._total += 1
            self._last_start[host] = time.monotonic()
            if len(self._last_start) > self._PRUNE_ABOVE:
                self._prune()
        try:
            yield
        finally:
            with self._cond:
                self._total -= 1
                self._in_flight[host] -= 1
                if not self._in_flight[host]:
                    del self._in_flight[host]
                self._cond.notify_all()

    def _wait_time(self, host: str) -> float | None:
        """0 to go now, seconds to wait for the delay, None to wait for a running request."""
        if self._total >= self.max_concurrency or self._in_flight.get(host, 0) >= self.concurrency:
            return None
        last = self._last_start.get(host)
        if last is None:
            return 0
        remaining = last + self.delay - time.monotonic()
        return max(0, remaining)

    def _prune(self) -> None:
        now = time.monotonic()
        self._last_start = {
            host: start
            for host, start in self._last_start.items()
            if host in self._in_flight or start + self.delay > now
        }


class MachineHostLimiter:
    """Limits shared by every process on this machine that uses the same directory.

    `newsdesk up` runs several worker processes; each has its own threads and its own
    LocalHostLimiter (which still keeps the global cap per process), but a publisher
    must see at most `concurrency` requests from all of them together. Slots are file
    locks (flock), which the kernel releases when a process dies, so a killed worker
    never leaves a host blocked. The delay is a start time reserved under a lock.
    """

    def __init__(self, directory: Path, concurrency: int, delay: float, max_concurrency: int) -> None:
        self.local = LocalHostLimiter(concurrency, delay, max_concurrency)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.concurrency = concurrency
        self.delay = delay

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        host = host.lower()
        with self.local.slot(host):
            fd = self._take_slot(host)
            try:
                self._wait_turn(host)
                yield
            finally:
                os.close(fd)  # closing the descriptor releases its lock

    def _path(self, host: str, suffix: str) -> str:
        return str(self.directory / f"{re.sub(r'[^a-z0-9.-]', '_', host)}.{suffix}")

    def _take_slot(self, host: str) -> int:
        """A free slot if there is one, else wait in line for one of them (the kernel
        wakes the waiter the moment its holder finishes)."""
        for n in range(self.concurrency):
            fd = os.open(self._path(host, f"{n}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                os.close(fd)
        fd = os.open(self._path(host, f"{random.randrange(self.concurrency)}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _wait_turn(self, host: str) -> float:
        """Reserve the next start time for `host` (last start + delay), wait for it and
        return it (wall-clock time)."""
        if self.delay <= 0:
            return time.time()
        fd = os.open(self._path(host, "next"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 64, 0)
            now = time.time()
            try:
                start = max(now, float(raw) if raw else 0.0)
            except ValueError:
                start = now
            os.ftruncate(fd, 0)
            os.pwrite(fd, repr(start + self.delay).encode(), 0)
        finally:
            os.close(fd)
        if start > now:
            time.sleep(start - now)
        return start
