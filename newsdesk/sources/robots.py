"""robots.txt, read once per origin and remembered for a while (RFC 9309 semantics).

The cache does not fetch by itself: it is given a function that fetches through the
guarded Fetcher, so robots.txt obeys the same address guard, caps and politeness as
everything else.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

from protego import Protego

__all__ = ["ROBOTS_TTL", "UNREACHABLE_TTL", "RobotsCache"]

ROBOTS_TTL = 3600.0  # a fetched (or missing) robots.txt is trusted this long
UNREACHABLE_TTL = 600.0  # a 5xx/429/unreachable robots.txt disallows everything this long

# Rules: a parsed robots.txt, or True (allow all) / False (disallow all).
Rules = Protego | bool
# url -> (status, body); status None when no usable answer came (e.g. endless redirects).
# Errors it raises (an address refused, a network failure) propagate to the caller.
RobotsFetch = Callable[[str], tuple[int | None, bytes]]


class RobotsCache:
    def __init__(
        self,
        fetch: RobotsFetch,
        user_agent: str,
        *,
        ttl: float = ROBOTS_TTL,
        unreachable_ttl: float = UNREACHABLE_TTL,
        max_entries: int = 10_000,
    ) -> None:
        self._fetch = fetch
        self.user_agent = user_agent
        self.ttl = ttl
        self.unreachable_ttl = unreachable_ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Rules, float, int | None]] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        rules = self.rules_for(url)
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(url, self.user_agent)

    def explain(self, url: str) -> str:
        """Why `url` is not allowed, for error messages."""
        entry = self._cached(_origin(url))
        if entry is not None and entry[0] is False:
            failing = _status_text(entry[2])
            return f"robots.txt of {_origin(url)} is failing ({failing}); not fetching for now"
        return f"robots.txt of {_origin(url)} disallows {url} for {self.user_agent}"

    def rules_for(self, url: str) -> Rules:
        """The rules of url's origin; errors raised by the fetch function propagate uncached."""
        origin = _origin(url)
        if (entry := self._cached(origin)) is not None:
            return entry[0]
        with self._lock:
            loading = self._loading.setdefault(origin, threading.Lock())
        with loading:  # one fetch per origin even when many threads ask at once
            try:
                if (entry := self._cached(origin)) is None:
                    rules, ttl, status = self._load(origin)
                    entry = (rules, time.monotonic() + ttl, status)
                    with self._lock:
                        self._entries[origin] = entry
                        self._entries.move_to_end(origin)
                        while len(self._entries) > self.max_entries:
                            self._entries.popitem(last=False)
            finally:
                with self._lock:
                    self._loading.pop(origin, None)
        return entry[0]

    def _cached(self, origin: str) -> tuple[Rules, float, int | None] | None:
        with self._lock:
            entry = self._entries.get(origin)
            if entry and entry[1] > time.monotonic():
                return entry
        return None

    def _load(self, origin: str) -> tuple[Rules, float, int | None]:
        status, body = self._fetch(origin + "/robots.txt")
        if status is not None and 200 <= status < 300:
            return Protego.parse(body.decode("utf-8", "replace")), self.ttl, status
        if status is not None and 400 <= status < 500 and status != 429:
            return True, self.ttl, status  # no robots.txt: everything is allowed
        return False, self.unreachable_ttl, status  # the server struggles: stay away a while


def _status_text(status: int | None) -> str:
    return f"HTTP {status}" if status else "no answer"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{host}{port}"
