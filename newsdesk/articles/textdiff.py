"""What changed between two versions of a text, paragraph by paragraph, word by word.

A reader wants to see "12 killed" become "15 killed", not two whole paragraphs, and not
the fifty paragraphs that stayed the same: paragraphs are matched first (difflib), the
unchanged ones are counted, not shown, and each changed paragraph is diffed by words
against the one it replaced. A paragraph rewritten beyond recognition reads better as
the old one struck out and the new one in full, and so does one too long to diff word
by word cheaply. Plain text in, values out: the page and the API render them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

SAME, INSERTED, DELETED = "same", "ins", "del"
MAX_WORD_DIFF_CHARS = 20_000  # a longer paragraph is shown replaced whole
MAX_CHANGED_PARAGRAPHS = 60  # then "and N more changed paragraphs"
REWRITTEN_BELOW = 0.35  # word similarity under which a paragraph counts as rewritten

_PARAGRAPHS = re.compile(r"\n[ \t\r]*\n\s*")
# Spacing, words (with their inner apostrophes, hyphens and number separators: "1,200",
# "don't") and single punctuation marks, so "Lamu" -> "Lamu, 15 dead" adds ", 15 dead".
_TOKENS = re.compile(r"\s+|\w+(?:['\u2019.,:\-]\w+)*|[^\w\s]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Piece:
    kind: str  # SAME, INSERTED or DELETED
    text: str


@dataclass(frozen=True)
class Paragraph:
    """One changed paragraph: its pieces in reading order."""

    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class Unchanged:
    """A run of paragraphs that did not change, shown as their count."""

    count: int


@dataclass
class TextDiff:
    parts: list[Paragraph | Unchanged] = field(default_factory=list)
    inserted_words: int = 0
    deleted_words: int = 0
    more: int = 0  # changed paragraphs left out after MAX_CHANGED_PARAGRAPHS

    @property
    def changed(self) -> bool:
        return bool(self.inserted_words or self.deleted_words)


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs (blank-line separated, as stored), spacing normalised."""
    found = [_SPACE.sub(" ", p).strip() for p in _PARAGRAPHS.split(text or "")]
    return [p for p in found if p]


def diff_text(old: str, new: str) -> TextDiff:
    """The changes from `old` to `new`, by paragraph and within each by word."""
    before, after = paragraphs(old), paragraphs(new)
    result = TextDiff()
    changed = 0
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            _unchanged(result, a1 - a0)
            continue
        olds, news = before[a0:a1], after[b0:b1]
        for k in range(max(len(olds), len(news))):
            old_p = olds[k] if k < len(olds) else ""
            new_p = news[k] if k < len(news) else ""
            changed += 1
            pieces = diff_words(old_p, new_p)
            result.inserted_words += sum(len(p.text.split()) for p in pieces if p.kind == INSERTED)
            result.deleted_words += sum(len(p.text.split()) for p in pieces if p.kind == DELETED)
            if changed > MAX_CHANGED_PARAGRAPHS:
                result.more += 1
            else:
                result.parts.append(Paragraph(tuple(pieces)))
    return result


def diff_line(old: str, new: str) -> tuple[Piece, ...]:
    """A one-line field (the headline) diffed by words."""
    return tuple(diff_words(_SPACE.sub(" ", old or "").strip(), _SPACE.sub(" ", new or "").strip()))


def diff_words(old: str, new: str) -> list[Piece]:
    """Word-level pieces turning `old` into `new`; whole replacement when rewritten."""
    if old == new:
        return [Piece(SAME, new)] if new else []
    if not old or not new or len(old) + len(new) > 2 * MAX_WORD_DIFF_CHARS:
        return _replaced(old, new)
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    words = [t for t in a if not t.isspace()] + [t for t in b if not t.isspace()]
    kept = sum(
        sum(1 for t in a[a0:a1] if not t.isspace()) for op, a0, a1, _, _ in matcher.get_opcodes() if op == "equal"
    )
    if words and 2 * kept / len(words) < REWRITTEN_BELOW:
        return _replaced(old, new)
    pieces: list[Piece] = []
    for op, a0, a1, b0, b1 in _joined(matcher.get_opcodes(), a):
        if op == "equal":
            pieces.append(Piece(SAME, "".join(a[a0:a1])))
            continue
        if a1 > a0:
            pieces.append(Piece(DELETED, "".join(a[a0:a1])))
        if b1 > b0:
            pieces.append(Piece(INSERTED, "".join(b[b0:b1])))
    return pieces


def _replaced(old: str, new: str) -> list[Piece]:
    pieces = []
    if old:
        pieces.append(Piece(DELETED, old))
    if new:
        pieces.append(Piece(INSERTED, new))
    return pieces


Opcode = tuple[str, int, int, int, int]


def _joined(opcodes: Sequence[Opcode], a: list[str]) -> list[Opcode]:
    """Changes separated only by spacing become one ("<del>12 dead</del>", not
    "<del>12</del> <del>dead</del>"): a reader compares phrases, not single words."""
    out: list[Opcode] = []
    for i, code in enumerate(opcodes):
        op, a0, a1, b0, b1 = code
        gap = (
            op == "equal"
            and all(t.isspace() for t in a[a0:a1])
            and 0 < i < len(opcodes) - 1
            and out
            and out[-1][0] != "equal"
        )
        if gap or (op != "equal" and out and out[-1][0] != "equal"):
            _, p0, _, q0, _ = out.pop()
            out.append(("replace", p0, a1, q0, b1))
        else:
            out.append(code)
    return out


def _unchanged(result: TextDiff, count: int) -> None:
    if result.parts and isinstance(result.parts[-1], Unchanged):
        result.parts[-1] = Unchanged(result.parts[-1].count + count)
    else:
        result.parts.append(Unchanged(count))
