"""Sentence splitting shared by the AI features (summary, key points, ask-the-article).

Rule-based rather than a trained splitter: it is fast (a BBC article in well under a
millisecond), needs no model data, and keeps exact character offsets so every summary
sentence, key point and quoted answer can be traced back to its place in the article.

The boundary rule is deliberately a superset of the simple rule used by the summary
benchmark (a full stop, question or exclamation mark, plus closing quotes or brackets,
then whitespace and an upper-case letter or digit), with the usual exceptions added:
titles (Mr. Dr.), initials (J. K. Rowling), months and numbering before a number
(Jan. 5, No. 10), and acronyms (U.S., a.m., Inc.) that end a sentence only when a
typical sentence opener follows. Every line break also ends a sentence: a line of its
own is a heading, a caption or a paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Sentence", "benchmark_units", "split_sentences"]


@dataclass(frozen=True)
class Sentence:
    index: int  # position in the article, 0-based
    text: str
    start: int  # character offsets in the text passed in: text[start:end] == text
    end: int
    paragraph: int


_CLOSE = "\"'\u201d\u2019)\\]\u00bb"
_OPEN = "\"'\u201c\u2018(\\[\u00ab"
# End punctuation (an ellipsis counts as one), up to two closing quotes or brackets, then
# whitespace and an optional opening quote or bracket before the next sentence's first
# character, which is checked in Python (upper-case or digit, any alphabet).
_BOUNDARY = re.compile(rf"(?:\.\.\.|\u2026|[.!?]+)[{_CLOSE}]{{0,2}}(?=[ \t\u00a0]+[{_OPEN}]?(\w))")
_WORD_BEFORE_DOT = re.compile(r"([\w.\-']*)\.$")

# Never end a sentence after these (lower-cased, without the dot).
_TITLES = frozenset(
    "mr mrs ms mx dr prof st gen gov sen rep lt col capt sgt cpl pvt maj adm cmdr rev hon "
    "messrs mme mlle sr jr insp supt det fr br vs v cf".split()
)
# No break after these when a number follows (Jan. 5, No. 10, Fig. 3, p. 12).
_BEFORE_NUMBER = frozenset(
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos nr fig figs vol p pp art sec ch "
    "ed approx est tel ca c".split()
)
# Abbreviations that may also end a sentence: break only before a typical opener.
_AMBIGUOUS = frozenset("bros dept univ govt".split())
_ACRONYM = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")  # U.S, a.m, Ph.D (the last dot is the match)
_NEVER_AFTER = frozenset("e.g i.e al viz".split())
_OPENERS = frozenset(
    """a an the he she it they we i you his her its their our my this that these those there
    here but and or so yet if when while after before as at in on for from by with without
    however meanwhile still also then now today yesterday last next some many most more one
    two three no not all both each every what who why how where which mr mrs ms dr prof
    police officials analysts critics""".split()
)


def split_sentences(text: str) -> list[Sentence]:
    """Split paragraphs (separated by blank lines; by single line breaks when the text has
    no blank line) into sentences. All non-blank text ends up in some sentence."""
    sentences: list[Sentence] = []
    paragraph_break = re.compile(r"\n[ \t\r]*\n\s*") if re.search(r"\n[ \t\r]*\n", text) else re.compile(r"\n\s*")
    paragraph = 0
    for para_start, para_end in _spans(text, paragraph_break):
        for line_start, line_end in _spans(text, re.compile(r"\n"), para_start, para_end):
            for start, end in _sentence_spans(text, line_start, line_end):
                sentences.append(Sentence(len(sentences), text[start:end], start, end, paragraph))
        if sentences and sentences[-1].paragraph == paragraph:
            paragraph += 1
    return sentences


def benchmark_units(sentence: str) -> int:
    """How many sentences the plain benchmark rule sees in one of ours (usually 1; 2 for
    "on Jan. 5 Smith said", which it cuts after "Jan.")."""
    cuts = 0
    for m in _PLAIN_BOUNDARY.finditer(sentence):
        before = sentence[max(0, m.start() - 5) : m.start() + 1]
        if m.group(0)[0] == "." and _PLAIN_NO_SPLIT.search(before):
            continue
        cuts += 1
    return cuts + 1


_PLAIN_BOUNDARY = re.compile(rf"[.!?][{_CLOSE}]{{0,2}}(?=\s+[{_OPEN}]?[A-Z0-9])")
_PLAIN_NO_SPLIT = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Gov|Sen|Rep|Lt|Col|Capt|Sgt|Jr|Sr|No|vs)|(?<![A-Za-z])[A-Z])\.$"
)


def _spans(text: str, separator: re.Pattern[str], start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of the non-blank pieces of text[start:end] between separators."""
    end = len(text) if end is None else end
    pos = start
    for m in separator.finditer(text, start, end):
        yield from _strip(text, pos, m.start())
        pos = m.end()
    yield from _strip(text, pos, end)


def _strip(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    line = text[start:end]
    pos = 0
    for m in _BOUNDARY.finditer(line):
        if _is_boundary(line, m):
            yield from _strip(text, start + pos, start + m.end())
            pos = m.end()
    yield from _strip(text, start + pos, end)


def _is_boundary(line: str, m: re.Match[str]) -> bool:
    nxt = m.group(1)
    if not (nxt[0].isupper() or nxt[0].isdigit()):
        return False
    punct = m.group(0).rstrip(_CLOSE.replace("\\", ""))
    if punct != ".":
        return True  # ! ? ... and runs like ?! always end a sentence before a capital
    word_match = _WORD_BEFORE_DOT.search(line, max(0, m.start() - 40), m.start() + 1)
    word = word_match.group(1) if word_match else ""
    if m.group(0) != ".":
        word = ""  # a quote or bracket closed after the dot: a real ending
    if not word:
        return True
    low = word.lower()
    following = _next_word(line, m.end())
    if low in _TITLES or low in _NEVER_AFTER:
        return False
    if low in _BEFORE_NUMBER and nxt[0].isdigit():
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: J. K. Rowling, George W. Bush
    if any(c.isdigit() for c in word):
        return True  # a number or an amount: $41.48.
    if _ACRONYM.fullmatch(word) or low in _AMBIGUOUS:
        # U.S. / a.m. / Inc.: a sentence ends only if the next word usually opens one
        return following.lower() in _OPENERS
    return True


_NEXT_WORD = re.compile(rf"\s+[{_OPEN}]?([\w']+)")


def _next_word(line: str, pos: int) -> str:
    m = _NEXT_WORD.match(line, pos)
    return m.group(1) if m else ""
