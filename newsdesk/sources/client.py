"""The process's one Fetcher, built from Django settings.

One per process so that connection pools and the robots.txt cache are shared by every
task the process runs; per-host politeness is shared by all processes on the machine.
"""

from __future__ import annotations

import threading

from django.conf import settings

from newsdesk.sources.http import Fetcher, FetchPolicy
from newsdesk.sources.politeness import MachineHostLimiter

_lock = threading.Lock()
_fetcher: Fetcher | None = None


def fetch_policy() -> FetchPolicy:
    return FetchPolicy(
        user_agent=settings.NEWSDESK_USER_AGENT,
        timeout=settings.NEWSDESK_FETCH_TIMEOUT,
        max_bytes=settings.NEWSDESK_FETCH_MAX_BYTES,
        max_redirects=settings.NEWSDESK_FETCH_MAX_REDIRECTS,
        allow_hosts=frozenset(h.lower() for h in settings.NEWSDESK_FETCH_ALLOW_HOSTS),
        obey_robots=settings.NEWSDESK_OBEY_ROBOTS,
        host_concurrency=settings.NEWSDESK_FETCH_HOST_CONCURRENCY,
        host_delay=settings.NEWSDESK_FETCH_HOST_DELAY,
        max_concurrency=settings.NEWSDESK_FETCH_CONCURRENCY,
    )


def get_fetcher() -> Fetcher:
    global _fetcher
    with _lock:
        if _fetcher is None:
            policy = fetch_policy()
            limiter = MachineHostLimiter(
                settings.DATA_DIR / "hosts",
                concurrency=policy.host_concurrency,
                delay=policy.host_delay,
                max_concurrency=policy.max_concurrency,
            )
            _fetcher = Fetcher(policy, limiter)
        return _fetcher


def reset_fetcher() -> None:
    """Drop the shared Fetcher, e.g. after settings changed in a test."""
    global _fetcher
    with _lock:
        if _fetcher is not None:
            _fetcher.close()
        _fetcher = None
