"""Tokens that keep what entity and keyphrase rules need: capitalisation, whether the
capital is informative, possessives, and where phrases must break.

A capital letter says "name" only in the middle of a sentence; at a sentence start,
after an opening quote or in a Title Case Headline it says nothing, so such tokens are
marked `ambiguous` and the rules ask for other evidence before calling them names.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from newsdesk.ai import words

_TOKEN = re.compile(
    r"""
    (?P<abbr>(?:[^\W\d_]\.){2,}|[A-Z]+&[A-Z]+\b)                  # U.S.  U.S.A.  S&P  AT&T
  | (?P<word>[^\W\d_](?:[^\W_]|['’](?=[^\W\d_])|[-‐‑](?=[^\W_]))*)  # Ki-moon O'Brien
  | (?P<num>\d(?:[\d,.:]*\d)?(?:%|[^\W\d_]+)?(?:[-‐‑][^\W_]+)*)    # 5.3  10-month  1990s
  | (?P<punct>[^\w\s])
    """,
    re.VERBOSE,
)
# Longer texts are cut: the topic of an article shows in its first ten thousand words,
# and the cost of a pathological input stays bounded.
MAX_CHARS = 60_000
_SENTENCE_END = frozenset(".!?…:;")
_OPENERS = frozenset("\"“”'‘’([«»—–")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "capt",
        "sgt",
        "st",
        "jr",
        "sr",
        "inc",
        "corp",
        "co",
        "ltd",
        "no",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
    ]
)


@dataclass(slots=True)
class Token:
    text: str  # as written, without a possessive 's
    lower: str
    start: int  # character offset in the tokenized string
    kind: str  # "word" | "abbr" | "num" | "punct"
    ambiguous: bool = False  # capitalised for position, not for being a name
    possessive: bool = False  # written with 's
    gap_newline: bool = False  # a line break stands before it
    index: int = 0  # position in the token list
    is_word: bool = False  # a word or an abbreviation, not a number or punctuation
    capitalized: bool = False  # a word whose first letter is a capital
    all_caps: bool = False  # at least two letters, all capitals ("NATO", "U.S.")


def _token(raw: str, start: int, kind: str, *, index: int, possessive: bool, gap_newline: bool) -> Token:
    is_word = kind in ("word", "abbr")
    letters = [c for c in raw if c.isalpha()] if is_word else []
    return Token(
        raw,
        raw.lower().replace("’", "'"),
        start,
        kind,
        is_word=is_word,
        capitalized=is_word and raw[:1].isupper(),
        all_caps=len(letters) >= 2 and all(c.isupper() for c in letters),
        index=index,
        possessive=possessive,
        gap_newline=gap_newline,
    )


def tokenize(text: str, *, headline: bool = False) -> list[Token]:
    """Tokens of `text`; with `headline`, a Title Case or ALL CAPS text marks all its
    words ambiguous. Hashtags and keyphrases both tokenize the same article, so the
    last few results are remembered (tokens are never changed after this)."""
    return list(_tokenize(text, headline))


@lru_cache(maxsize=8)
def _tokenize(text: str, headline: bool) -> tuple[Token, ...]:
    tokens: list[Token] = []
    last_end = 0
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)  # "Google&#8217;s" from feeds that escape twice
    text = text.replace("\xad", "")  # soft hyphens split words invisibly
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        raw = m.group()
        possessive = False
        if kind == "word" and len(raw) > 2 and raw[-2] in "'’" and raw[-1] in "sS":
            raw, possessive = raw[:-2], True
        tokens.append(
            _token(
                raw,
                m.start(),
                kind,
                possessive=possessive,
                gap_newline="\n" in text[last_end : m.start()],
                index=len(tokens),
            )
        )
        last_end = m.end()
    _mark_ambiguous(tokens)
    if headline and is_title_case(tokens):
        for t in tokens:
            t.ambiguous = True
    return tuple(tokens)


def _mark_ambiguous(tokens: list[Token]) -> None:
    at_start = True
    for i, t in enumerate(tokens):
        if t.gap_newline:
            at_start = True
        if t.kind == "punct":
            if t.text in _SENTENCE_END:
                prev = tokens[i - 1] if i else None
                abbreviation = (
                    prev is not None
                    and t.text == "."
                    and (prev.lower in _ABBREVIATIONS or (len(prev.text) == 1 and prev.text.isupper()))
                )
                at_start = at_start or not abbreviation
            elif t.text in _OPENERS:
                at_start = True
            continue
        t.ambiguous = at_start
        at_start = False


def is_title_case(tokens: list[Token]) -> bool:
    """Whether a headline capitalises words for style: function words capitalised
    mid-line ("With", "In"), most content words capitalised, or everything in caps."""
    wordish = [t for t in tokens if t.kind == "word"]
    if len(wordish) < 3:
        return False
    if sum(t.all_caps for t in wordish) >= 0.8 * len(wordish):
        return True
    rest = wordish[1:]
    if any(t.capitalized and not t.all_caps and words.is_stopword(t.lower) and len(t.text) > 1 for t in rest):
        return True
    content = [t for t in rest if not words.is_stopword(t.lower)]
    return len(content) >= 3 and sum(t.capitalized for t in content) >= 0.75 * len(content)


def sentences(tokens: list[Token]) -> list[list[Token]]:
    """Tokens grouped into sentences (split after . ! ? and at line breaks)."""
    out: list[list[Token]] = [[]]
    for i, t in enumerate(tokens):
        if t.gap_newline and out[-1]:
            out.append([])
        out[-1].append(t)
        if t.kind == "punct" and t.text in ".!?…":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.ambiguous:
                out.append([])
    return [s for s in out if s]
