"""What a reader muted, and whether an article falls under it: the one rule that keeps
muted things out of alerts and briefings.

An article is muted for a reader when its source, its section or one of its hashtags
is muted, or a muted word (or phrase) stands as whole words in its headline or
description. Alerts and briefings apply it when a reader's page or email is made, to
the few hundred articles it could show (notifications.py, personal.py, site.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from newsdesk.reader.models import Interest

Kind = Interest.Kind
# The kinds as plain strings (what the rows hold), for typed code.
SOURCE, SECTION, HASHTAG, STORY, SEARCH, WORD = (
    str(k) for k in (Kind.SOURCE, Kind.SECTION, Kind.HASHTAG, Kind.STORY, Kind.SEARCH, Kind.WORD)
)
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


@dataclass(frozen=True)
class Facts:
    """What the mute rule looks at in one article; `words` are its headline's and
    description's, lower-cased, in order."""

    id: int
    source: str  # slug
    section: str
    hashtags: frozenset[str]
    words: tuple[str, ...]

    @classmethod
    def of(cls, article_id: int, source: str, section: str, hashtags: Iterable[str], text: str) -> Facts:
        return cls(article_id, source, section or "", frozenset(hashtags), tuple(words(text)))


@dataclass
class Mutes:
    """One reader's mutes."""

    sources: set[str] = field(default_factory=set)
    sections: set[str] = field(default_factory=set)
    hashtags: set[str] = field(default_factory=set)
    phrases: set[tuple[str, ...]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.sources or self.sections or self.hashtags or self.phrases)

    def add(self, kind: str, key: str) -> None:
        if kind == Kind.SOURCE:
            self.sources.add(key)
        elif kind == Kind.SECTION:
            self.sections.add(key)
        elif kind == Kind.HASHTAG:
            self.hashtags.add(key)
        elif kind == Kind.WORD and (phrase := tuple(words(key))):
            self.phrases.add(phrase)

    def hides(self, facts: Facts) -> bool:
        if facts.source in self.sources or (facts.section and facts.section in self.sections):
            return True
        if self.hashtags & facts.hashtags:
            return True
        return any(contains(facts.words, phrase) for phrase in self.phrases)


def contains(tokens: Sequence[str], phrase: tuple[str, ...]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in tokens
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == phrase for i, word in enumerate(tokens) if word == phrase[0])


def of_user(user_id: int) -> Mutes:
    return of_users([user_id])[user_id]


def of_users(user_ids: list[int]) -> dict[int, Mutes]:
    """Each reader's mutes, in one query."""
    found = {pk: Mutes() for pk in user_ids}
    rows = Interest.objects.filter(user_id__in=user_ids, muted=True).values_list("user_id", "kind", "key")
    for user_id, kind, key in rows:
        found[user_id].add(kind, key)
    return found
