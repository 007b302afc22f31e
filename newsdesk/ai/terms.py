"""Content words of a sentence, reduced to stems, for the lexical parts of the AI features.

Summary ranking and ask-the-article compare sentences by the content words they share;
function words would make every pair of sentences look alike, and without stemming
"talks" would not meet "talk". Snowball stemmers exist for many languages; the stop
list is English only, so for other languages very short words stand in for it.

The stop list and the stemmer live in `words`; this module only says how its list
differs from that one, and why.
"""

from __future__ import annotations

import re

from newsdesk.ai import words
from newsdesk.ai.words import stem

__all__ = ["STOP_WORDS", "content_terms"]

# Words of the stop list that content_terms counts as content all the same. Numbers and
# ordinals ("two", "third"), time words ("last", "next", "ago") and the rarer function
# words were never dropped here: the summary ranking and ask-the-article were fitted with
# them counted, and dropping them changes both (the BBC ROUGE figures; "last" and "next"
# decide ask questions). Contractions with an apostrophe need no entry: \w+ never yields
# them whole.
KEPT_AS_CONTENT = frozenset(
    """across afterwards ago alone amongst anybody anyhow anyway anywhere becomes becoming
    beforehand behind beside besides beyond due eg eight elsewhere everybody everyone
    everything everywhere except far first five former formerly four furthermore hence
    hereafter hereby herein ie indeed instead jr last latter latterly meanwhile moreover
    mostly namely never nevertheless next nine nobody none noone nothing nowhere ok onto
    please quite second seem seemed seeming seems seven several six somebody somehow
    someone sometime sometimes somewhat somewhere sr st ten thence thereafter thereby
    therefore therein thereupon third three throughout thru together two unless vs whence
    whereafter whereby wherein whereupon wherever whither whoever whole yes""".split()
)
# Words that are no topic when sentences are compared, but stay off the shared list
# because keyphrases use them inside phrases (on the shared list they change the hashtag
# predictions): the verbs of attribution, which every quoted sentence shares, a few light
# verbs, and what \w+ leaves of contractions ("don't" -> "don", "t").
ATTRIBUTION = frozenset("said says say saying told tell according added adding".split())
LIGHT_VERBS = frozenset("get gets got like made make shall".split())
CONTRACTION_PARTS = frozenset("s t d ll m re ve".split())

STOP_WORDS = (words.STOP_WORDS - KEPT_AS_CONTENT) | ATTRIBUTION | LIGHT_VERBS | CONTRACTION_PARTS

_WORD = re.compile(r"\w+")


def content_terms(text: str, language: str = "en") -> list[str]:
    """Stemmed content words of text, in order, repeats kept."""
    found = _WORD.findall(text.lower())
    if language == "en":
        return [stem(w) for w in found if w not in STOP_WORDS and w != "_"]
    return [stem(w, language) for w in found if len(w) > 3]
