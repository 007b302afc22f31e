"""The one rule for which publication dates we believe.

Feeds, sitemaps and pages state dates that are wrong in every possible way: year 1
(an unset field), year 9999 ("never expires"), a time zone that pushes the value out of
what `datetime` can represent, an article "published" next year. A date like that would
sort the article to the top or bottom of every list forever, so it is dropped and the
caller falls back (to when we found the article). Every producer of dates (feeds,
sitemaps, page metadata) and the storage boundary apply this same rule.

No Django here: the extract stage uses it too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["CLOCK_SKEW", "EARLIEST", "from_iso", "plausible"]

# The first web page went up in August 1991 and news sites came years later; a news
# article dated before 1991 is a placeholder or a parse error, not a publication date.
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)
# Publishers' clocks and time zones are often off by hours; a day ahead is the most we
# take as skew. Anything later is a date in the future, which no published article has.
CLOCK_SKEW = timedelta(days=1)


def plausible(when: datetime | None, now: datetime | None = None) -> datetime | None:
    """`when` if it can be a publication date, else None.

    A naive value is taken as UTC; an aware one keeps its own zone (pages state their
    offset and readers may want it). A value whose conversion to UTC overflows (year 1
    east of Greenwich, year 9999 west of it) is not representable where we store it.
    """
    if when is None:
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        when = when.replace(tzinfo=UTC)
    try:
        in_utc = when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    now = now or datetime.now(UTC)
    if in_utc < EARLIEST or in_utc > now + CLOCK_SKEW:
        return None
    return when


def from_iso(text: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 time (JSON Feed, sitemaps) -> aware UTC, or None when it
    cannot be read or is not `plausible`."""
    if len(text) > 64:
        return None
    try:
        when = plausible(datetime.fromisoformat(text.strip().replace("z", "Z")))
    except ValueError:
        return None
    return when.astimezone(UTC) if when else None  # plausible: the conversion fits
