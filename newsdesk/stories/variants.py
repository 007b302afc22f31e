"""Variants: the same named thing in another size or model number is another thing.

"13-inch MacBook Pro with scissor keyboard expected in 2020" and "16-inch MacBook Pro
review" share a product line's name and most of their words, and both views of the
clusterer rate them close; but a rumour about one model and a review of another are two
happenings. So are news of the iPhone 11 and of the iPhone 12, of the Galaxy S10 and the
S20, of the PS4 and the PS5, of flights MH17 and MH370. Two headlines that give the same
name different values, and share none, are not one event: the clusterer treats that as
a veto (`Params.variants`). A story keeps every value its headlines gave, so a headline
naming two models ("Nexus 8 and Nexus 10 release dates") ties them.

Only forms that name a variant are read, never quantities a report states (figures
differ between reports of one event; conflicting figures are the claims module's
business):

* a screen size used as a modifier: "13-inch", "16in", '13"' ("10 inches of snow" is a
  measurement, not a model; capacities such as "512GB" are options of one model and
  reported figures, "a 48GB game", so they are not read);
* a code of a few letters and digits: "S10", "PS5", "MH370", "G20", but not periods
  ("Q3" results come with the "Q4" outlook in one report, "H1", "FY15");
* a name followed by a number: "iPhone 11", "Pixel 4", "Boeing 737", where the name is
  written with an inner capital, or is a noun and nothing else that is rare in general
  English (wordfreq), so that counters ("Day 5" of a trial, "Week 12", "Chapter 11") and
  verbs that stand capitalised in a title-case headline ("Submits 107") are not read as
  models; a number followed by a quantity word ("2 million", "3 days"), a decimal part
  or a percent sign is a quantity.

A trailing " - WDRB 41" or " | Editorial" is the publisher's or the desk's name, not
the story's, and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from functools import lru_cache

from newsdesk.ai import words

Variants = frozenset[tuple[str, str]]  # (name, value) pairs
# A name rarer than this in general English (Zipf: log10 of its frequency per billion
# words) is taken as a proper name when a number follows it: "macbook" 3.4, "iphone" 4.4
# and "boeing" 3.8 are under it; "chapter" 4.7, "day" 6.0 and "game" 5.7 are counters.
NAME_ZIPF = 4.5
# Screen size names a model (13-inch and 16-inch MacBook Pro, 55-inch TV); capacities
# (64GB, 4,000mAh) are options of one model and are reported figures ("a 48GB game",
# "35GB of audio"), so they are not read.
_SIZE = re.compile(
    r"""(?<![\w.,$£€])(\d{1,3}(?:\.\d)?)          # the value, not part of a larger figure or sum
        (?:-inch\b|-in\b|in\b|["″](?!\w)|\sinch\b)(?!-)   # 13-inch, 16in, 13", 13 inch
    """,
    re.IGNORECASE | re.VERBOSE,
)
_CODE = re.compile(r"(?<![\w&$£€.-])([A-Za-z]{1,4})(\d{1,4})([A-Za-z]?)(?![\w&-])")
_NAMED = re.compile(
    r"""(?<![\w'’-])([A-Z][A-Za-z]+)\s+(\d{1,3}[a-pr-z]?)(?![\w-]|[.,:]\d|\s*%)
        (?!\s+(?:percent|per|million|billion|trillion|thousand|hundred|bn|mn|m|k|x|times
                 |years?|months?|weeks?|days?|hours?|minutes?|seconds?|points?|people)\b)""",
    re.IGNORECASE | re.VERBOSE,
)
# Letters before digits that make a figure or a period, not a model: "No 10", "Q3" and
# "H1" results with next quarter's outlook in the same report, "FY15", "COVID19".
_NOT_CODES = {
    "no",
    "nr",
    "vol",
    "p",
    "pp",
    "am",
    "pm",
    "ft",
    "x",
    "v",
    "vs",
    "q",
    "h",
    "fy",
    "cy",
    "f",
    "covid",
    "sars",
}
_SUFFIX = re.compile(r"\s+[-|–—]\s+(?:\S+\s*){1,4}$")
_NOUN_ONLY = frozenset({"NOUN", "PROPN"})


def variants(title: str) -> Variants:
    """The (name, value) pairs a headline gives: ("inch", "13"), ("s", "10"), ("iphone", "11")."""
    return _variants(title)


@lru_cache(maxsize=100_000)
def _variants(title: str) -> Variants:
    for _ in range(2):
        title = _SUFFIX.sub("", title)
    found: set[tuple[str, str]] = set()
    for match in _SIZE.finditer(title):
        found.add(("inch", _number(match.group(1))))
    for match in _CODE.finditer(title):
        letters, digits, tail = match.groups()
        if letters.lower() in _NOT_CODES:
            continue
        tail = "" if tail in "sS" else tail.lower()  # "MP3s" is the plural of "MP3"
        found.add((letters.lower(), _number(digits) + tail))
    for match in _NAMED.finditer(title):
        name, value = match.groups()
        if _is_name(name):
            found.add((name.lower(), _number(value.lower())))
    return frozenset(found)


def conflict(a: Mapping[str, AbstractSet[str]], b: Mapping[str, AbstractSet[str]]) -> bool:
    """Whether two sides give one name values with nothing in common (name -> values)."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return any(name in large and not (values & large[name]) for name, values in small.items())


def by_name(found: Variants) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for name, value in found:
        grouped.setdefault(name, set()).add(value)
    return grouped


def _is_name(word: str) -> bool:
    """A capitalised name ("iPhone", "MacBook", "Boeing", "Pixel"), not a verb, adjective or
    plural that happens to stand capitalised in a title-case headline ("Submits 107")."""
    if any(c.isupper() for c in word[1:]) and not word.isupper():
        return True
    if not word[0].isupper():
        return False
    low = word.lower()
    classes = words.word_classes(low)
    return words.zipf(low) < NAME_ZIPF and classes <= _NOUN_ONLY and words.singular(low) == low


def _number(text: str) -> str:
    """'07' and '7' are one value; '13.0' and '13' too."""
    head, _, tail = text.partition(".")
    digits = head.lstrip("0") or "0"
    return f"{digits}.{tail}" if tail.strip("0") else digits
