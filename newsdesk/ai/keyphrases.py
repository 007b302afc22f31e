"""Key words and phrases of one article, ranked without a corpus.

Candidates are the words and 2-3 word runs between function words and punctuation;
each gets a score from signals that hold for any article:

* frequency in the article, with diminishing returns;
* rarity in general English (wordfreq), the stand-in for an IDF that needs no
  collection: "inflation" says more than "said";
* word length, a cheap proxy for content-bearing words;
* position: the headline and the first lines carry the topic;
* word class: adverbs and numbers are rarely what an article is about;
* phrase length: single words are the safest bet, longer phrases must earn their
  place by repetition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from newsdesk.ai import words
from newsdesk.ai.tokens import Token, tokenize

MAX_WORDS = 3
# Words after which the next word is a verb ("to wait", "we are prepared", "it rejects").
VERB_CUES = frozenset(
    [
        "to",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "shall",
        "did",
        "does",
        "do",
        "don't",
        "doesn't",
        "didn't",
        "not",
        "never",
        "i",
        "we",
        "you",
        "they",
        "he",
        "she",
        "it",
        "who",
        "which",
        "that",
    ]
)
# Weights of the score: set by hand against the kpcrowd development documents (each
# change checked on both halves of them) and kept round; no per-word knowledge.
W_COUNT = 1.2
W_TITLE = 0.6
W_LENGTH = 0.15
W_COMMON = 0.15
W_POSITION = 0.3
W_ADVERB = 0.7
W_DIGIT = 0.4
PHRASE_COST = {1: 0.0, 2: 2.0, 3: 2.9}


@dataclass
class Candidate:
    words: tuple[str, ...]  # lowercase, as first seen
    count: int = 0
    first: int = 0  # token index of the first occurrence (headline first)
    in_title: bool = False
    capitalized: int = 0  # occurrences written capitalised in mid-sentence
    lowercase: int = 0  # occurrences written in lowercase
    verbal: int = 0  # occurrences that read as a verb ("to wait", "stressed")
    forms: dict[str, int] = field(default_factory=dict)  # surface -> count

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def display(self) -> str:
        """The most frequent mid-sentence spelling; lowercase for common words that
        were capitalised only at sentence starts."""
        best = max(self.forms.items(), key=lambda kv: kv[1])[0]
        return best if self.capitalized > self.lowercase else best.lower()


_END = Token("", "", 0, "punct")


def _usable(t: Token) -> bool:
    return t.is_word and not words.is_stopword(t.lower) and any(c.isalpha() for c in t.text)


def _content(t: Token) -> bool:
    """A token that may stand in a phrase: a non-function word or a number with
    letters ("10-month", "1990s")."""
    if t.kind == "num":
        return any(c.isalpha() for c in t.text)
    return _usable(t)


def candidates(title: str, text: str) -> tuple[list[Candidate], int]:
    """All candidates of the article, keyed by their stems, and the token count."""
    head = tokenize(title or "", headline=True)
    body = tokenize(text or "")
    found: dict[tuple[str, ...], Candidate] = {}
    offset = 0
    for tokens, in_title in ((head, True), (body, False)):
        run: list[Token] = []
        for t in tokens + [_END]:
            if _content(t) and not t.gap_newline:
                run.append(t)
                if not t.possessive:
                    continue
            elif _content(t):
                _add_run(found, run, tokens, offset, in_title)
                run = [t]
                continue
            _add_run(found, run, tokens, offset, in_title)
            run = []
        offset += len(tokens)
    return list(found.values()), offset


def _add_run(found: dict, run: list[Token], tokens: list[Token], offset: int, in_title: bool) -> None:
    stems = [words.stem(t.lower) for t in run]
    for i in range(len(run)):
        for n in range(1, MAX_WORDS + 1):
            gram = run[i : i + n]
            if len(gram) < n:
                break
            if n == 1 and (len(gram[0].text) < 3 and not gram[0].all_caps or gram[0].kind == "num"):
                continue
            if words.is_calendar(gram[-1].lower) and n > 1:
                continue
            key = tuple(stems[i : i + n])
            c = found.get(key)
            if c is None:
                c = Candidate(tuple(t.lower for t in gram), first=offset + gram[0].index)
                found[key] = c
            c.count += 1
            c.in_title = c.in_title or in_title
            if n == 1 and _verbal(gram[0], tokens):
                c.verbal += 1
            surface = " ".join(t.text for t in gram)
            c.forms[surface] = c.forms.get(surface, 0) + 1
            if not gram[0].ambiguous:
                if gram[0].capitalized:
                    c.capitalized += 1
                else:
                    c.lowercase += 1


def _verbal(t: Token, tokens: list[Token]) -> bool:
    """Whether this occurrence reads as a verb: "stressed", "to wait", "India beats"."""
    prev = tokens[t.index - 1] if t.index else None
    if prev is not None and prev.lower in VERB_CUES:
        return True
    if t.lower.endswith("ed") and "VERB" in words.word_classes(t.lower):
        return True
    return (
        t.lower.endswith("s")
        and prev is not None
        and prev.capitalized
        and not prev.ambiguous
        and "VERB" in words.word_classes(t.lower)
    )


def score(c: Candidate, n_tokens: int) -> float:
    n = len(c.words)
    common = max(words.zipf(w) for w in c.words)
    length = min(len(c.text), 15)
    s = (
        W_COUNT * math.log(c.count)
        + W_TITLE * c.in_title
        + W_LENGTH * length
        - W_COMMON * common
        - W_POSITION * c.first / max(1, n_tokens)
        - PHRASE_COST[n]
    )
    if n == 1 and words.word_classes(c.words[0]) == frozenset({"ADV"}):
        s -= W_ADVERB
    if any(ch.isdigit() for ch in c.text):
        s -= W_DIGIT
    return s


def ranked(title: str, text: str) -> list[tuple[Candidate, float]]:
    """Candidates best first; phrases said once, outside the headline and not a name,
    come last: they only fill the list of a very short text."""
    cands, n_tokens = candidates(title, text)
    scored = [(c, score(c, n_tokens)) for c in cands]
    scored.sort(key=lambda cs: (not _eligible(cs[0]), -cs[1], cs[0].first))
    return scored


def _eligible(c: Candidate) -> bool:
    return len(c.words) == 1 or c.count > 1 or c.in_title or c.capitalized > 0


def keyphrases(title: str, text: str, *, limit: int = 10) -> list[str]:
    """The article's key words and phrases, best first."""
    return [c.display for c, _ in ranked(title, text)[:limit]]
