"""What a reader typed, reduced to words we quote ourselves.

Search boxes receive hostile input, and both FTS5 and tsquery have a query language of
their own (NEAR, OR, column filters, prefixes, parentheses). Instead of escaping that
language we never pass it through: the text is split into terms made only of letters and
digits, and each backend turns them into quoted strings. Two pieces of syntax are kept
because readers expect them: "a phrase in double quotes", and a leading minus to leave
out a word or phrase. Everything else is plain words, all of which must match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Beyond this, a query is not a search but a paste; cutting it keeps the work bounded.
MAX_QUERY_CHARS = 300
MAX_TERMS = 12
MAX_WORDS_PER_TERM = 8

_WORD = re.compile(r"[^\W_]+")
# A term: an optional minus, then a "quoted phrase" (closed or running to the end) or a
# run of anything but spaces and quotes.
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    exclude: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()

    @property
    def included(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.exclude)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.exclude)

    def __bool__(self) -> bool:
        """A query that only excludes has nothing to rank, so it searches nothing."""
        return bool(self.included)


def clean(text: str) -> str:
    """The query as we echo it back: one line, composed characters, bounded length."""
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def words(text: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD.findall(text))[:MAX_WORDS_PER_TERM]


def parse(text: str) -> Query:
    """Split `text` into terms; a word joined by punctuation ("e-mail") stays a phrase."""
    terms: list[Term] = []
    seen: set[Term] = set()
    for match in _TERM.finditer(clean(text)):
        minus, phrase, bare = match.groups()
        found = words(phrase if phrase is not None else bare)
        if not found:
            continue
        term = Term(found, exclude=bool(minus))
        if term not in seen:
            seen.add(term)
            terms.append(term)
        if len(terms) == MAX_TERMS:
            break
    return Query(tuple(terms))
