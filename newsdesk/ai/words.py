"""Facts about single English words, looked up once and remembered.

Hashtags and keyphrases ask the same few questions of every token (is it a function
word, how common is it in general English, can it be a noun, is it a first name); the
answers come from packages that ship their data (wordfreq, lemminflect, gender-guesser,
snowballstemmer) and from the hand-written lists in `data/`. Each answer is cached per
word, so an article costs dictionary look-ups, not library calls.

This module is the one home of the English stop list (`STOP_WORDS`, `data/stopwords.txt`)
and of stemming (`stem`): other modules that need either import it from here.
"""

from __future__ import annotations

import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import snowballstemmer

DATA = Path(__file__).resolve().parent / "data"
_lock = threading.Lock()


@cache
def word_list(name: str) -> frozenset[str]:
    """The lowercase words of `data/NAME.txt` (blank lines and # comments skipped)."""
    words: set[str] = set()
    for line in (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        words.update(w.lower() for w in line.split())
    return frozenset(words)


def table(name: str) -> list[list[str]]:
    """The `|`-separated rows of `data/NAME.txt`, fields stripped."""
    rows = []
    for line in (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append([field.strip() for field in line.split("|") if field.strip()])
    return rows


# The English stop list: function words and near-function words, hand-written in
# data/stopwords.txt. Callers that need a different list derive it from this one by
# name (see terms.STOP_WORDS).
STOP_WORDS: frozenset[str] = word_list("stopwords")


def is_stopword(word: str) -> bool:
    """Whether the word, in any case, is on the stop list."""
    return word.lower() in STOP_WORDS


def is_calendar(word: str) -> bool:
    return word.lower() in word_list("weekdays")


def is_title(word: str) -> bool:
    return word.lower() in word_list("titles")


def is_org_word(word: str) -> bool:
    low = word.lower().rstrip(".")
    orgs = word_list("organizations")
    return low in orgs or (low.endswith("s") and low[:-1] in orgs)  # "Centers for ..."


def is_generic_noun(word: str) -> bool:
    return word.lower() in word_list("generic_nouns")


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """General-English frequency of the lowercase word on the Zipf scale (0 = unseen,
    7 = "the"): the document-frequency prior that works for any article, unlike an IDF
    fitted on one collection."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en")


@lru_cache(maxsize=200_000)
def word_classes(word: str) -> frozenset[str]:
    """Universal POS classes the lowercase word can take (NOUN, VERB, ADJ, ADV, ...);
    empty for words outside lemminflect's dictionary, which are mostly names."""
    return frozenset(lemmas_of(word.lower()))


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """The singular of a lowercase noun ("swaps" -> "swap"), the word itself otherwise."""
    if not word.endswith("s") or word.endswith("ss"):
        return word
    lemmas = lemmas_of(word).get("NOUN")
    return lemmas[0] if lemmas else word


def lemmas_of(word: str) -> dict[str, tuple[str, ...]]:
    """What lemminflect's getAllLemmas answers: {universal POS: (lemma, ...)} from its
    look-up table and its overrides, in the word's capitalisation."""
    from lemminflect.core.LexicalUtils import applyCapsStyleToDict, getCapsStyle

    low = word.lower()
    found = _lemma_table().get(low)
    lemmas = {}
    if found:
        for part in found.split("|"):
            upos, _, forms = part.partition("=")
            lemmas[upos] = tuple(forms.split("/"))
    lemmas.update(_lemma_overrides().get(low, {}))
    return applyCapsStyleToDict(lemmas, getCapsStyle(word))


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    """lemminflect's table of lemmas, read from its file as its Lemmatizer reads it
    (categories as universal POS tags, a later line of a word's category replacing an
    earlier one) but held as one string per word, "NOUN=man|VERB=man": its dict of
    dicts of tuples took 33 MB in every process that lemmatises, web processes too
    (ask-the-article), this about 14 (issue 15). tests/test_words.py checks that
    both answer alike for every word of the table."""
    import gzip

    from lemminflect import config
    from lemminflect.codecs.LemmaLUCodec import LemmaLUCodec
    from lemminflect.core.LexicalUtils import categoryToUPos

    table: dict[str, str] = {}
    with gzip.open(config.lemma_lu_fn, "rt", encoding="utf-8") as lines, _lock:
        for line in lines:
            word, category, forms = LemmaLUCodec.fromString(line)
            entry = f"{categoryToUPos(category)}={'/'.join(forms)}"
            table[word] = f"{table[word]}|{entry}" if word in table else entry
    return table


@lru_cache(maxsize=1)
def _lemma_overrides() -> dict[str, dict[str, tuple[str, ...]]]:
    from lemminflect import config
    from lemminflect.codecs.OverridesCodec import OverridesCodec

    return OverridesCodec.load(config.lemma_overrides_fn)


# Word classes whose dictionary form stands for an inflected word, the likelier first.
_BASE_CLASSES = ("NOUN", "ADJ", "ADV")


@lru_cache(maxsize=200_000)
def base_form(word: str) -> str:
    """The dictionary form of a lowercase English word ("ate" and "eaten" -> "eat", "men"
    -> "man", "going" and "went" -> "go"), the verb's first when the word can be a verb
    ("meeting" -> "meet"); the word itself when it is a dictionary form already ("saw",
    "data") or is unknown (names). Stemming alone keeps irregular forms apart: "eaten"
    stems to "eaten", "ate" to "ate"."""
    lemmas = lemmas_of(word)
    verbs = lemmas.get("VERB")
    if verbs:
        return word if word in verbs else verbs[0]
    if not lemmas or any(word in forms for forms in lemmas.values()):
        return word
    for kind in _BASE_CLASSES:
        if lemmas.get(kind):
            return lemmas[kind][0]
    return word


# ISO 639-1 codes (as articles store their language) -> Snowball algorithm names.
_SNOWBALL = {
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
}
_stemmers: dict[str, Any] = {}  # language -> Snowball stemmer, None if it has none


@lru_cache(maxsize=200_000)
def stem(word: str, language: str = "en") -> str:
    """Snowball stem of the lowercased word ("economists" -> "economist"), so that
    inflections of one word meet; the word itself for a language Snowball lacks.

    `language` is an ISO 639-1 code or a Snowball name. A stemmer object keeps state
    while it works (PyStemmer's too), hence the lock.
    """
    word = word.lower()
    with _lock:
        if language not in _stemmers:
            try:
                _stemmers[language] = snowballstemmer.stemmer(_SNOWBALL.get(language, language))
            except KeyError:
                _stemmers[language] = None
        stemmer = _stemmers[language]
        return stemmer.stemWord(word) if stemmer is not None else word


@lru_cache(maxsize=100_000)
def is_first_name(word: str) -> bool:
    """Whether gender-guesser's list of given names (about 61,000 spellings from many
    countries) has the word: "Alexander Lukashenko" is a person because of "Alexander"."""
    return word.lower() in given_names()


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """gender-guesser's names, read from its data file as its Detector reads them (a
    "+" stands for nothing, a space or a hyphen) but without the per-country
    frequencies the Detector keeps: 20 MB in every task worker for what is only a
    question of membership (issue 15). tests/test_words.py checks the two agree."""
    import gender_guesser.detector

    path = Path(gender_guesser.detector.__file__).with_name("data") / "nam_dict.txt"
    names: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line and line[0] not in "#=":
                name = line.split()[1].lower()
                names.update((name.replace("+", joint) for joint in ("", " ", "-")) if "+" in name else (name,))
    return frozenset(names)


def is_dictionary_word(word: str, min_zipf: float = 3.0) -> bool:
    """A common English word in lowercase ("However", "Officials"), as opposed to a
    name that happens to stand capitalised at the start of a sentence ("Putin")."""
    low = word.lower()
    return zipf(low) >= min_zipf and bool(word_classes(low))
