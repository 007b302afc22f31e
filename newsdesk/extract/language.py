"""Guess the language of article text when the page does not declare one.

A tenth of news pages carry no lang attribute or locale. Counting the commonest
function words of a few languages (and, for other scripts, the script itself) is
enough for body-length text and costs nothing next to a model.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[^\W\d_]+")
_STOPWORDS = {
    "en": "the and of to in is that for it was on with as are be this by at have from",
    "de": "der die und das ist nicht ein eine zu den mit sich des auf für dem von sie im",
    "fr": "le la les et des est une un du pour dans que qui pas sur au avec il ce",
    "es": "el la los las y de que en un una por con para es se del al lo como más",
    "it": "il di che la per un una non sono gli con del della le si è da anche nel",
    "pt": "o a os as e de que em um uma para com não do da no na se é por dos",
    "nl": "de het een en van is dat op te in zijn niet met voor er aan ook",
    "sv": "och att det som en på är av för med den till har inte om ett",
    "pl": "i w na się nie z do to że jest jak o ale po co tak",
    "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke",
    "ru": "и в не на что он с как это по но из к у же за от то",
    "uk": "і в не на що він з як це та але до від за й у",
}
_STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
# Scripts used by one language each (in news, to a first approximation).
_SCRIPTS = (
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
)
SAMPLE_CHARS = 3000
MIN_HITS = 5


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when unsure."""
    sample = text[:SAMPLE_CHARS]
    for lang, script in _SCRIPTS:
        if len(script.findall(sample)) > len(sample) / 10:
            return lang
    words = [word.lower() for word in _WORDS.findall(sample)]
    if not words:
        return None
    scores = {lang: sum(word in stop for word in words) for lang, stop in _STOPWORD_SETS.items()}
    best = max(scores, key=scores.__getitem__)
    if scores[best] < MIN_HITS or scores[best] < 0.05 * len(words):
        return None
    return best
