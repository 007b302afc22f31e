"""Polling intervals adapt to how often a feed publishes; failures back off."""

from datetime import UTC, datetime, timedelta

from newsdesk.sources.schedule import backoff, next_interval

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BOUNDS = {"minimum": 300, "maximum": 21600}


def every(minutes: int, count: int = 10) -> list[datetime]:
    return [NOW - timedelta(minutes=minutes * n) for n in range(count)]


def test_busy_feed_is_polled_often_and_quiet_feed_rarely():
    busy = next_interval(900, new_entries=3, entry_times=every(10), ttl=None, **BOUNDS)
    quiet = next_interval(900, new_entries=0, entry_times=every(240), ttl=None, **BOUNDS)
    assert busy == 300  # half of a 10-minute gap, raised to the floor
    assert quiet == 7200  # half of a 4-hour gap
    assert next_interval(900, new_entries=0, entry_times=every(60 * 48), ttl=None, **BOUNDS) == 21600


def test_without_dates_the_interval_follows_what_arrived():
    assert next_interval(1000, new_entries=2, entry_times=[], ttl=None, **BOUNDS) == 700
    assert next_interval(1000, new_entries=0, entry_times=[], ttl=None, **BOUNDS) == 1500


def test_the_feeds_ttl_is_a_floor():
    assert next_interval(900, new_entries=3, entry_times=every(10), ttl=3600, **BOUNDS) == 3600


def test_backoff_grows_exponentially_up_to_the_cap():
    delays = [backoff(n, base=300, maximum=86400) for n in range(1, 12)]
    assert 270 <= delays[0] <= 330 and 540 <= delays[1] <= 660 and 1080 <= delays[2] <= 1320
    assert all(a < b for a, b in zip(delays[:8], delays[1:8]))
    assert max(delays) <= 86400 * 1.1 and delays[-1] >= 86400 * 0.9
