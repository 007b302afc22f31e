"""Facts about single English words, looked up once and remembered.

Hashtags and keyphrases ask the same few questions of every token (is it a function
word, how common is it in general English, can it be a noun, is it a first name); the
answers come from packages that ship their data (wordfreq, lemminflect, gender-guesser,
snowballstemmer) and from the hand-written lists in `data/`. Each answer is cached per
word, so an article costs dictionary look-ups, not library calls.
"""

from __future__ import annotations

import threading
from functools import cache, lru_cache
from pathlib import Path

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


def is_stopword(word: str) -> bool:
    return word.lower() in word_list("stopwords")


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
    import lemminflect

    with _lock:  # lemminflect loads its tables on first use
        lemmas = lemminflect.getAllLemmas(word.lower())
    return frozenset(lemmas)


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """The singular of a lowercase noun ("swaps" -> "swap"), the word itself otherwise."""
    import lemminflect

    if not word.endswith("s") or word.endswith("ss"):
        return word
    with _lock:
        lemmas = lemminflect.getAllLemmas(word).get("NOUN")
    return lemmas[0] if lemmas else word


_stemmer = None


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of the lowercase word: groups "economist"/"economists"."""
    global _stemmer
    with _lock:
        if _stemmer is None:
            import snowballstemmer

            _stemmer = snowballstemmer.stemmer("english")
        return _stemmer.stemWord(word.lower())


_names = None


@lru_cache(maxsize=100_000)
def is_first_name(word: str) -> bool:
    """Whether gender-guesser's list of given names (about 40,000 from many countries)
    has the word: "Alexander Lukashenko" is a person because of "Alexander"."""
    global _names
    with _lock:
        if _names is None:
            import gender_guesser.detector

            _names = gender_guesser.detector.Detector(case_sensitive=False)
        return _names.get_gender(word) != "unknown"


def is_dictionary_word(word: str, min_zipf: float = 3.0) -> bool:
    """A common English word in lowercase ("However", "Officials"), as opposed to a
    name that happens to stand capitalised at the start of a sentence ("Putin")."""
    low = word.lower()
    return zipf(low) >= min_zipf and bool(word_classes(low))
