"""How hard newsdesk may knock: per-host concurrency and spacing, plus a global cap.

The Fetcher only asks a HostLimiter for a slot, so a limiter shared between worker
processes (kept in a cache or the database) can be added beside LocalHostLimiter without
touching the fetcher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

__all__ = ["HostLimiter", "LocalHostLimiter"]


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
