"""Which headline and which publication date to believe when the witnesses disagree.

A page states its headline several times (og:title, the JSON-LD headline, its <h1>, its
<title>) and the feed that announced it states one more; its date comes from the page's
metadata, from a guess over its text (htmldate), from the feed and from its address.
Each witness is wrong on some real pages, in ways that can be recognised:

- A headline cut for a feed or a social card ends in "…" or stops mid-sentence: it is
  the start of the full one. A feed title may carry the site's name ("... - WSJ"). The
  longer headline is the page's own, unless the page's is only the site's name, which is
  shorter than any real headline.
- A date guessed from the page's text can be any date printed on it (a photo caption's
  "March 28, 2017" on a story from 2019). A date in the address (/2019/11/20/) is set
  by the publisher's CMS when the story is filed and is rarely more than a day off;
  a page date years away from it is the page's mistake. The feed's date is the
  publisher's statement for this very item: it beats a guess, not a declaration.

No Django here; the ingest (newsdesk/pipeline/ingest.py) applies these to each page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from newsdesk.dates import plausible

__all__ = ["choose_published", "choose_title", "fuller_title", "url_date"]

_ELLIPSIS = re.compile(r"\s*(?:…|\.{3,})\s*$")
# What joins a site's name to a headline ("Headline | Site", "Headline - Site"); a colon
# is not among them, as headlines use it themselves ("Brexit: MPs vote").
_SITE_SEPARATOR = re.compile(r"^\s+[|\-·•»]\s+\S")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def _key(title: str) -> str:
    """What two spellings of one headline share: case, spaces and curly quotes aside."""
    return _SPACES.sub(" ", title.translate(_QUOTES)).strip().casefold()


def is_cut(title: str) -> bool:
    return bool(_ELLIPSIS.search(title))


def extends(short: str, full: str) -> bool:
    """Whether `full` is `short` completed: `short` (without a trailing ellipsis) is the
    start of `full`, ending where a word ends, and `full` says more than a site's name."""
    stem, whole = _key(_ELLIPSIS.sub("", short)), _key(full)
    if not stem or len(whole) <= len(stem) or not whole.startswith(stem):
        return False
    if is_cut(short):
        return True
    return not whole[len(stem)].isalnum() and not _SITE_SEPARATOR.match(whole[len(stem) :])


def fuller_title(title: str | None, others: Iterable[str | None]) -> str | None:
    """`title`, or the first of `others` that is its full form (see `extends`)."""
    if not title:
        return title
    return next((other for other in others if other and extends(title, other)), title)


def _with_site_name(feed: str, page: str) -> bool:
    """Whether `feed` is `page` followed by a separator and more ("Title - Site")."""
    whole, head = _key(feed), _key(page)
    return whole.startswith(head) and bool(_SITE_SEPARATOR.match(whole[len(head) :]))


def choose_title(feed: str | None, page: str | None) -> str | None:
    """The headline to store: the page's own when the feed's is cut short, a prefix of
    it, shorter, or the page's with the site's name added; the feed's when the page's is
    the feed's with the site's name added, or longer."""
    feed, page = (feed or "").strip(), (page or "").strip()
    if not (feed and page):
        return feed or page or None
    if extends(feed, page) or _with_site_name(feed, page):
        return page
    if _with_site_name(page, feed) or extends(page, feed):
        return feed
    if _key(_ELLIPSIS.sub("", feed)) == _key(page):
        return page
    return page if len(feed) < len(page) and not is_cut(page) else feed


# --- dates -------------------------------------------------------------------------------

# How far a page's date may be from the day in its address and still be the same
# publication: time zones move it a day, a story filed one evening and published the
# next morning another.
URL_DATE_TOLERANCE = timedelta(days=2)

_YEAR = r"(?P<y>(?:199|20[0-9])[0-9])"
_MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_URL_DAY = [
    re.compile(rf"/{_YEAR}/(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12][0-9]|3[01])(?:/|$|[-_.])"),
    re.compile(rf"/{_YEAR}/(?P<mon>[a-z]{{3}})[a-z]*/(?P<d>0?[1-9]|[12][0-9]|3[01])(?:/|$|[-_.])", re.IGNORECASE),
    re.compile(rf"(?:/|[-_]){_YEAR}-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12][0-9]|3[01])(?:/|$|[-_.])"),
]
_URL_MONTH = [
    re.compile(rf"/{_YEAR}/(?P<m>0?[1-9]|1[0-2])/"),
    re.compile(rf"/{_YEAR}/(?P<mon>[a-z]{{3}})[a-z]*/", re.IGNORECASE),
    re.compile(rf"(?:/|[-_]){_YEAR}-(?P<m>0[1-9]|1[0-2])-"),
]


def _month(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    if groups.get("m"):
        return int(groups["m"])
    name = (groups.get("mon") or "").lower()
    return _MONTH_NAMES.index(name) + 1 if name in _MONTH_NAMES else None


def url_date(url: str | None) -> tuple[date, bool] | None:
    """The date in an article's address and whether it names the day (True) or only
    the month (False, e.g. /2019/11/slug); None when the path holds no date."""
    try:
        path = urlsplit(url or "").path
    except ValueError:
        return None
    for patterns, whole_day in ((_URL_DAY, True), (_URL_MONTH, False)):
        for pattern in patterns:
            for match in pattern.finditer(path):
                month = _month(match)
                day = int(match.group("d")) if whole_day else 1
                try:
                    found = date(int(match.group("y")), month or 0, day)
                except ValueError:
                    continue
                if plausible(datetime.combine(found, time(12), tzinfo=UTC)) is not None:
                    return found, whole_day
    return None


def _agrees(when: datetime, stated: tuple[date, bool]) -> bool:
    day, whole_day = stated
    moment = when.astimezone(UTC)
    if whole_day:
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        return abs(moment - noon) <= URL_DATE_TOLERANCE + timedelta(hours=12)
    first = datetime.combine(day, time(0), tzinfo=UTC)
    following = datetime.combine(date(day.year + day.month // 12, day.month % 12 + 1, 1), time(0), tzinfo=UTC)
    return first - URL_DATE_TOLERANCE <= moment < following + URL_DATE_TOLERANCE


def choose_published(
    page: datetime | None, *, guessed: bool = False, feed: datetime | None = None, urls: Iterable[str | None] = ()
) -> datetime | None:
    """The publication time to store.

    `page` is the page's date, `guessed` True when it came from a search of the page's
    text rather than its metadata; `feed` the feed's date for the item; `urls` the
    addresses the page was found under (fetched, canonical), the first with a date
    counting. A date in the address overrules any other that is not within a couple of
    days of it (the feed's is taken when it agrees; else noon of the address's day);
    without one, the feed's date overrules a guessed page date.
    """
    stated = next((found for found in map(url_date, urls) if found), None)
    # The witnesses, most believed first: a declared page date, the feed's, a guess.
    witnesses = [page, feed] if not guessed else [feed, page]
    if stated is not None:
        agreeing = (when for when in witnesses if when is not None and _agrees(when, stated))
        return next(agreeing, datetime.combine(stated[0], time(12), tzinfo=UTC))
    return next((when for when in witnesses if when is not None), None)
