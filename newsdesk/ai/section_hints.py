"""Which of our sections the publisher itself filed an article under.

An editor's own filing is the best single signal there is for a story on the border of
two sections (a football club's takeover, a minister's economic plan): readers of that
publisher already found it there. Publishers say it in three places, all read here:
the page's `article:section` / JSON-LD `articleSection`, the feed's categories, and the
URL (`/sport/football/...`, `/news/technology-123`, `sport.example.com`).

Only labels that name a section are read; topic tags ("Ukraine", "Premier League
transfers"), desks ("News", "UK", "Opinion") and slugs say nothing about the section and
are ignored. The table is hand-written from how news sites name their sections.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# label (lower case, words separated by single spaces, "&" read as "and") -> sections
_TABLE: dict[str, tuple[str, ...]] = {}


def _add(section: str, labels: str) -> None:
    for label in labels.split(","):
        label = " ".join(label.split())
        if label:
            _TABLE[label] = (*_TABLE.get(label, ()), section)


_add(
    "world",
    "world, world news, international, international news, global, foreign, foreign news, "
    "europe, africa, asia, asia pacific, middle east, americas, latin america, world affairs",
)
_add(
    "politics",
    "politics, political, government, elections, election, uk politics, us politics, "
    "us elections, congress, parliament, white house, westminster, politics and policy",
)
_add(
    "business",
    "business, business news, economy, economics, the economy, markets, market, finance, "
    "money, companies, personal finance, banking, stocks, investing, earnings, retail, "
    "business and economy, business and finance, economy and business, markets and finance",
)
_add(
    "technology",
    "technology, tech, science and technology, sci tech, scitech, tech and science, gadgets, "
    "internet, computing, cybersecurity, cyber, gaming, video games, software, "
    "artificial intelligence, ai, technology news, tech news",
)
_add(
    "science",
    "science, science and technology, sci tech, scitech, tech and science, environment, "
    "climate, climate change, space, nature, science and environment, science news",
)
_add("health", "health, medicine, medical, healthcare, health care, health news, health and medicine")
_add(
    "sports",
    "sport, sports, football, soccer, cricket, rugby, rugby union, rugby league, tennis, "
    "golf, formula 1, formula one, f1, motorsport, motor sport, athletics, boxing, cycling, "
    "nfl, nba, mlb, nhl, baseball, basketball, hockey, ice hockey, olympics, horse racing, "
    "racing, mma, college football, college basketball, sports news, sport news",
)
_add(
    "entertainment",
    "entertainment, arts, culture, arts and culture, arts and entertainment, "
    "entertainment and arts, culture and arts, film, films, movies, movie, cinema, music, "
    "tv, television, tv and radio, radio, celebrity, celebrities, showbiz, books, theatre, "
    "theater, stage, entertainment news",
)
_add(
    "lifestyle",
    "lifestyle, life and style, life, living, travel, food, food and drink, fashion, style, "
    "home and garden, homes, relationships, parenting, family, wellbeing, well being, "
    "wellness, fitness, beauty, recipes, cooking, shopping",
)

# Hierarchical labels ("Sport > Football", "News/UK/Politics", "sport|cricket").
_LEVELS = re.compile(r"\s*(?:>|/|\||»|:|;|,)\s*")
_NOT_WORD = re.compile(r"\W+")
# A URL segment that is a section name plus an id: "technology-12345", "uk-politics-678".
_WITH_ID = re.compile(r"^([a-z][a-z-]*?)-\d+$")
# Words that narrow a section name in a URL without changing it ("uk-politics").
_QUALIFIERS = frozenset({"uk", "us", "news", "latest", "national", "local"})
MAX_LABELS = 20
MAX_LABEL_LENGTH = 100


def _normalize(label: str) -> str:
    words = _NOT_WORD.sub(" ", label.lower().replace("&", " and ")).split()
    return " ".join(words)


def _lookup(label: str) -> tuple[str, ...]:
    return _TABLE.get(_normalize(label), ())


def from_labels(labels: Iterable[str]) -> set[str]:
    """Sections named by the publisher's own labels (page section, feed categories)."""
    found: set[str] = set()
    for label in list(labels)[:MAX_LABELS]:
        if not isinstance(label, str) or len(label) > MAX_LABEL_LENGTH:
            continue
        for part in _LEVELS.split(label.strip()):  # a plain label is its only part
            found.update(_lookup(part))
    return found


def _segment_sections(segment: str) -> tuple[str, ...]:
    """A folder-like URL segment: its whole name, else its words when each of them is a
    section name or a qualifier ("uk-politics", "world-europe"; not "world-cup")."""
    whole = _lookup(segment)
    if whole:
        return whole
    words = _normalize(segment).split()
    if not all(word in _TABLE or word in _QUALIFIERS for word in words):
        return ()
    return tuple(section for word in words for section in _TABLE.get(word, ()))


def from_url(url: str) -> set[str]:
    """Sections named by the URL's folders or sub-domain. The last segment is the
    article's slug and is read only in the "section-id" form."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return set()
    found: set[str] = set()
    labels = host.split(".")
    if len(labels) >= 3:  # "sport.example.com"; "www" and the like name no section
        found.update(_TABLE.get(labels[0], ()))
    segments = [s for s in parts.path.lower().split("/") if s]
    for segment in segments[:-1][:4]:
        found.update(_segment_sections(segment))
    if segments:
        with_id = _WITH_ID.match(segments[-1])
        if with_id:
            found.update(_segment_sections(with_id.group(1)))
    return found


def publisher_sections(labels: Iterable[str] = (), url: str = "") -> set[str]:
    """Every section the publisher filed the article under, by label or by URL."""
    return from_labels(labels) | (from_url(url) if url else set())
