"""When to poll a feed next, and when to retry a page.

A feed that publishes every few minutes is polled often; one that publishes twice a
day is left alone, so a few hundred feeds stay cheap for us and polite to publishers.
Failures back off exponentially so a dead feed costs almost nothing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime


def next_interval(
    current: int,
    *,
    new_entries: int,
    entry_times: Sequence[datetime],
    ttl: int | None,
    minimum: int,
    maximum: int,
) -> int:
    """Seconds until the next poll of a feed that was just fetched successfully.

    Aim at half the typical gap between items (so a new item waits on average a quarter
    of a gap), learned from the item dates the feed shows; without usable dates, shrink
    the interval when something new came and grow it when nothing did. A feed's own
    <ttl> is a floor, as its publisher asked.
    """
    times = sorted({t for t in entry_times if t is not None}, reverse=True)[:20]
    if len(times) >= 3:
        gaps = sorted((a - b).total_seconds() for a, b in zip(times, times[1:]))
        gaps = [g for g in gaps if g > 0] or [float(maximum)]
        target = gaps[len(gaps) // 2] / 2
    elif new_entries:
        target = current * 0.7
    else:
        target = current * 1.5
    if ttl:
        target = max(target, ttl)
    return int(min(max(target, minimum), maximum))


def backoff(failures: int, *, base: int, maximum: int) -> int:
    """Seconds to wait after `failures` consecutive failures (exponential, with jitter)."""
    delay = base * (2 ** min(max(failures - 1, 0), 16))
    return int(min(delay, maximum) * random.uniform(0.9, 1.1))
