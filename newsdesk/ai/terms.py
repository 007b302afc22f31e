"""Content words of a sentence, reduced to stems, for the lexical parts of the AI features.

Summary ranking and ask-the-article compare sentences by the content words they share;
function words would make every pair of sentences look alike, and without stemming
"talks" would not meet "talk". Snowball stemmers exist for many languages; the stop
list is English only, so for other languages very short words stand in for it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

__all__ = ["STOP_WORDS", "content_terms", "stem"]

# Function words plus the verbs of attribution and question words, which carry no topic.
STOP_WORDS = frozenset(
    """a about above after again against all almost along already also although always am
    among an and another any anyone anything are around as at be became because become been
    before being below between both but by can cannot could did do does doing done down
    during each either else enough etc even ever every few for from further get gets got had
    has have having he her here hers herself him himself his how however i if in into is it
    its itself just least less like made make many may me might mine more most much must my
    myself neither no nor not now of off often on once one only or other others otherwise
    our ours ourselves out over own per perhaps rather really same shall she should since so
    some something still such than that the their theirs them themselves then there these
    they this those though through thus to too toward towards under until up upon us very
    via was we well were what whatever when whenever where whereas whether which while who
    whom whose why will with within without would yet you your yours yourself yourselves
    s t d ll m re ve
    said says say saying told tell according added adding
    mr mrs ms dr""".split()
)

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=8)
def _stemmer(language: str):
    name = {
        "en": "english",
        "de": "german",
        "fr": "french",
        "es": "spanish",
        "it": "italian",
        "pt": "portuguese",
        "nl": "dutch",
        "sv": "swedish",
        "da": "danish",
        "no": "norwegian",
        "nb": "norwegian",
        "fi": "finnish",
        "ru": "russian",
        "tr": "turkish",
        "ro": "romanian",
        "hu": "hungarian",
        "pl": "polish",
        "cs": "czech",
        "el": "greek",
        "ar": "arabic",
    }.get(language, language)
    try:
        return snowballstemmer.stemmer(name)
    except KeyError:
        return None


@lru_cache(maxsize=200_000)
def stem(word: str, language: str = "en") -> str:
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer else word


def content_terms(text: str, language: str = "en") -> list[str]:
    """Stemmed content words of text, in order, repeats kept."""
    words = _WORD.findall(text.lower())
    if language == "en":
        return [stem(w) for w in words if w not in STOP_WORDS and w != "_"]
    return [stem(w, language) for w in words if len(w) > 3]
