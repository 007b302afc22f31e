"""One key per thing, however a publisher spells it.

`alias_key` is the normalisation behind every hashtag match, within an article and
across the site (the lead stores `alias_key(alias) -> slug` for every alias a tag was
seen with). It folds what varies between publishers without changing the name:
case, dots in abbreviations, possessives, titles, diacritics ("Erdoğan"), and the
endings and doubled letters that transliterations of the same name disagree on
("Zelensky", "Zelenskyy", "Zelenskiy"; "Odessa", "Odesa"). Renamings no rule can see
("Kiev" -> "Kyiv", "UK" -> "United Kingdom") come from the hand-written
`data/aliases.txt`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from newsdesk.ai import words

# Letters that Unicode decomposition does not reduce to a base letter plus an accent.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ß": "ss",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ı": "i",
        "ʼ": "'",
        "’": "'",
        "‘": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
    }
)
# Stripped from the front of every key: words that only ever stand before a person's
# name. Roles that also start names of things ("General Motors", "Justice Department")
# are left to the entity rules, which look at what follows.
HONORIFICS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "president",
        "senator",
        "sen",
        "rep",
        "gov",
        "governor",
        "mayor",
        "chancellor",
        "premier",
    ]
)
_ENDINGS = re.compile(r"(?:iy|yy|ij|ii|yi|yj)$")
_DOUBLED = re.compile(r"([a-z])\1+")


def fold(text: str) -> str:
    """`text` in ASCII letters where a Latin letter carries an accent ("Türkiye" ->
    "Turkiye"); other scripts pass unchanged."""
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in text if not unicodedata.combining(c))


def _fold_word(word: str) -> str:
    word = _ENDINGS.sub("y", word)
    if word.endswith("ski"):
        word = word[:-1] + "y"
    return _DOUBLED.sub(r"\1", word) if len(word) > 3 else word


@lru_cache(maxsize=100_000)
def alias_key(surface: str) -> str:
    """The matching key of a name as written: "President Putin's" -> "putin",
    "U.S." -> "us", "Zelenskyy" -> "zelensky", "Erdoğan" -> "erdogan"."""
    text = fold(surface.strip()).lower()
    text = re.sub(r"'s$|'$", "", text)
    text = re.sub(r"(?<=\b[a-z])\.", "", text)  # u.s.a. -> usa
    parts = [p for p in re.split(r"[^\w]+|_", text.replace("'", "")) if p]
    while len(parts) > 1 and (parts[0] in HONORIFICS or parts[0] == "the"):
        parts.pop(0)
    if len(parts) > 2 and parts[:2] in (["prime", "minister"], ["vice", "president"]):
        parts = parts[2:]
    return " ".join(_fold_word(p) for p in parts)


def slugify(name: str) -> str:
    """URL key of a display name: ASCII, lowercase, hyphens ("Türkiye" -> "turkiye")."""
    text = fold(name).lower().replace("'", "").replace("&", " and ")
    text = re.sub(r"(?<=\b[a-z])\.", "", text)
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@dataclass(frozen=True, slots=True)
class Canonical:
    name: str
    kind: str


@lru_cache(maxsize=1)
def alias_table() -> dict[str, Canonical]:
    """alias key -> canonical name and kind, from `data/aliases.txt`."""
    table: dict[str, Canonical] = {}
    for row in words.table("aliases"):
        kind, name, *others = row
        entry = Canonical(name, kind)
        for surface in (name, *others):
            table.setdefault(alias_key(surface), entry)
    for entry in dict.fromkeys(table.values()):
        # "Netanyahu" alone is Benjamin Netanyahu, but "Francis" alone is not the Pope.
        last = entry.name.split()[-1]
        if (
            entry.kind == "person"
            and " " in entry.name
            and not (words.is_first_name(last) or last.isupper() or words.is_dictionary_word(last))
        ):
            table.setdefault(alias_key(last), entry)
    return table


def lookup(surface: str) -> Canonical | None:
    return alias_table().get(alias_key(surface))
