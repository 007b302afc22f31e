"""Which saved searches a new article matches: search run backwards.

Running every saved search against each batch of new articles costs one full-text query
per distinct search per batch, whatever the batch holds. Instead each article is
tokenised once the way SQLite's index tokenises it (schema.py: unicode61 words,
diacritics removed, Porter stems) and the searches are looked up by one word each must
contain (their anchor), then checked whole: every word and phrase of the query in the
headline, description or body (a phrase within one of them, in order), no excluded one,
and the filters (source, section, hashtag, language, dates). So the search page and the
alert agree on SQLite; on PostgreSQL, whose stemmer follows each article's language,
they can differ on the odd inflected word of a non-English article.

Compiled searches are kept per process by their key (the key is the search).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from urllib.parse import parse_qsl

import Stemmer
from django.utils import timezone

from newsdesk.search.query import Term, parse
from newsdesk.search.types import SearchFilters

_WORD = re.compile(r"[^\W_]+")
_stemmer = Stemmer.Stemmer("porter")
_stems: dict[str, str] = {}
STEM_CACHE = 200_000
COMPILED_CACHE = 50_000


def fold(word: str) -> str:
    """A word as the index keeps it: lower case, diacritics removed ("Zürich" -> "zurich")."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """The index's form of a word as it stands in a text, remembered per process (a
    batch's thousands of articles repeat the same few thousand words)."""
    found = _stems.get(word)
    if found is None:
        if len(_stems) > STEM_CACHE:
            _stems.clear()
        found = _stems[word] = _stemmer.stemWord(fold(word))
    return found


def tokens(text: str) -> list[str]:
    get = _stems.get
    return [get(w) or stem(w) for w in _WORD.findall(text or "")]


@dataclass(frozen=True)
class Document:
    """One article as the matcher sees it."""

    id: int
    columns: tuple[tuple[str, ...], ...]  # stems of the headline, description and body
    source: str
    section: str
    hashtags: frozenset[str]
    language: str
    day: date  # publication day in the site's time zone

    @classmethod
    def of(
        cls,
        article_id: int,
        texts: Sequence[str],
        *,
        source: str,
        section: str,
        hashtags: Iterable[str],
        language: str,
        published: datetime,
        zone: tzinfo | None = None,
    ) -> Document:
        return cls(
            article_id,
            tuple(tuple(tokens(t)) for t in texts),
            source,
            section or "",
            frozenset(hashtags),
            (language or "").lower(),
            published.astimezone(zone or timezone.get_current_timezone()).date(),
        )

    def vocabulary(self) -> frozenset[str]:
        return frozenset(s for column in self.columns for s in column)


@dataclass(frozen=True)
class SavedSearch:
    key: str
    included: tuple[tuple[str, ...], ...]  # stemmed words of each included term
    excluded: tuple[tuple[str, ...], ...]
    filters: SearchFilters

    @property
    def anchor(self) -> str:
        """A stem every match contains: the longest one (long words are the rare ones)."""
        return max((s for term in self.included for s in term), key=len)

    def matches(self, doc: Document, vocabulary: frozenset[str]) -> bool:
        if not all(_has(doc, vocabulary, term) for term in self.included):
            return False
        if any(_has(doc, vocabulary, term) for term in self.excluded):
            return False
        return _filters_pass(self.filters, doc)


def _has(doc: Document, vocabulary: frozenset[str], term: tuple[str, ...]) -> bool:
    if not all(s in vocabulary for s in term):
        return False
    if len(term) == 1:
        return True
    n = len(term)
    return any(column[i : i + n] == term for column in doc.columns for i, s in enumerate(column) if s == term[0])


def _filters_pass(filters: SearchFilters, doc: Document) -> bool:
    if filters.source and doc.source != filters.source:
        return False
    if filters.section and doc.section != filters.section:
        return False
    if filters.hashtag and filters.hashtag not in doc.hashtags:
        return False
    if filters.language:
        wanted = filters.language.lower()
        if doc.language != wanted and not doc.language.startswith(wanted + "-"):
            return False
    if filters.since and doc.day < filters.since:
        return False
    return not (filters.until and doc.day > filters.until)


_compiled: dict[str, SavedSearch | None] = {}


def compile_search(key: str) -> SavedSearch | None:
    """A saved search's key (the search page's query string) as a matcher; None when it
    has no words to match."""
    if key in _compiled:
        return _compiled[key]
    values = dict(parse_qsl(key))
    query = parse(values.get("q", ""))
    found = None
    if query:
        found = SavedSearch(
            key,
            tuple(_stemmed(t) for t in query.included),
            tuple(_stemmed(t) for t in query.excluded),
            SearchFilters(
                source=values.get("source") or None,
                section=values.get("section") or None,
                hashtag=(values.get("hashtag") or "").lstrip("#").lower() or None,
                language=values.get("language") or None,
                since=_date(values.get("since")),
                until=_date(values.get("until")),
            ),
        )
        if not all(found.included):
            found = None
    if len(_compiled) > COMPILED_CACHE:
        _compiled.clear()
    _compiled[key] = found
    return found


def _stemmed(term: Term) -> tuple[str, ...]:
    return tuple(stem(w) for w in term.words)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def match(keys: Iterable[str], docs: Sequence[Document]) -> dict[str, list[int]]:
    """For each saved search (by key) the ids of the documents it matches."""
    by_anchor: dict[str, list[SavedSearch]] = defaultdict(list)
    for key in keys:
        if (search := compile_search(key)) is not None:
            by_anchor[search.anchor].append(search)
    found: dict[str, list[int]] = defaultdict(list)
    if not by_anchor:
        return found
    for doc in docs:
        vocabulary = doc.vocabulary()
        anchors = (
            (a for a in by_anchor if a in vocabulary)
            if len(by_anchor) < len(vocabulary)
            else (a for a in vocabulary if a in by_anchor)
        )
        for anchor in list(anchors):
            for search in by_anchor[anchor]:
                if search.matches(doc, vocabulary):
                    found[search.key].append(doc.id)
    return found
