"""What the entity rules know about one name as written in an article.

Kept apart from the rules (`entities`) so that the article-level evidence
(`entity_context`) and the benchmark can share the type without importing each
other's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsdesk.ai import aliases
from newsdesk.ai.tokens import Token

PERSON, PLACE, ORGANIZATION = "person", "place", "organization"
OTHER = "other"  # a named event, contest or law ("World Cup", "U.S. Open"): a name, none of the three


@dataclass
class Mention:
    surface: str  # as written, titles and possessive stripped
    tokens: list[Token]
    position: int  # index of the first token in the article (headline first)
    in_title: bool
    person_cue: bool = False
    kind: str | None = None
    name: str | None = None  # canonical name once known
    weight: float = 1.0  # nationality words count half
    demonym: bool = False  # a nationality word ("Russian") standing for its country
    prev_word: str | None = None  # the lowercase word before the name, if any
    next_word: str | None = None
    weak: bool = False  # one common word capitalised only by its position ("Officials")
    link: Mention | None = None  # a longer name of the same thing, kind not yet settled
    guessed: bool = False  # kind set by a fallback rule, open to the article's evidence
    before: tuple[Token, ...] = ()  # up to two tokens before the name, nearest last
    after: tuple[Token, ...] = ()  # up to two tokens after it, nearest first

    @property
    def key(self) -> str:
        return aliases.alias_key(self.surface)
