"""Time windows that tolerate any date the database holds.

Publishers state odd dates (0001-01-01, 9999-12-31) and older rows may hold them however
well ingest filters them today. Arithmetic on such a date overflows (`datetime(1, 1, 1) -
timedelta(days=3)` raises OverflowError), and a far-future date used as "the latest time
seen" would age every real story out of the clusterer or the vector index. So the stories
stages reckon with `effective_time`, which never lies after the article was stored, and
shift dates with `earlier`/`later`, which stop at the ends of the calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone


def earlier(moment: datetime, span: timedelta) -> datetime:
    """`moment - span`, or the first representable moment when that falls before year 1."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=moment.tzinfo)


def later(moment: datetime, span: timedelta) -> datetime:
    """`moment + span`, or the last representable moment when that falls after year 9999."""
    try:
        return moment + span
    except OverflowError:
        return datetime.max.replace(tzinfo=moment.tzinfo)


def effective_time(published: datetime, stored: datetime | None = None) -> datetime:
    """When an article counts as published for stories and indexes: its stated time, but
    never after it was stored (or now, for an article not stored yet): an article cannot
    have appeared after we read it, and a future date must not outlast every real one."""
    limit = stored or timezone.now()
    return min(published, limit)
