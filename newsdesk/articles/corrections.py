"""Publishers' correction notes: is an update a correction, and what does the note say.

Newsrooms flag a correction in words, at the top or bottom of the text: "Correction:",
"An earlier version of this article misstated ...", "This article has been corrected to
...", "Clarification:", "Editor's note: ...". A note counts only when the new version
has it and the old one did not, so a note that stays on the page marks the update that
added it, not every later one. An update note ("This story has been updated with ...")
is kept as the revision's note but is a correction only when it says something was
wrong. Plain text in, values out: no Django here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NOTE = 1000  # characters of a note kept: a note is a sentence or two, not an article

CORRECTION = "correction"
CLARIFICATION = "clarification"
EDITORS_NOTE = "editors-note"
UPDATE = "update"

_WRONG = (
    r"(?:incorrect|misstat|misidentif|misspel|misquot|misattribut|mistaken|wrong|erroneous|"
    r"in error|an error|errors?\b|inaccura|falsch|fehler|irrtümlich|erron|erreur|erróne|error|"
    r"errat|sbagli|onjuist|fout|incorrecto|incorreto|correct(?:ed|ion|ions|s)?\b|corrig|korrigiert)"
)

# (kind, pattern): a paragraph that matches several takes the first, headings ("Editor's
# note:") before wordings in running text (sorted below).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        # English
        (CORRECTION, r"^\W{0,3}corrections?\b\s*(?:[:\-\u2013\u2014.]|appended|\(|$)"),
        (CORRECTION, r"^\W{0,3}corrected\b\s*[:\-\u2013\u2014]"),  # wire headlines: "CORRECTED-..."
        (
            CORRECTION,
            r"\b(?:an|the) (?:earlier|previous|original|prior) version of this (?:article|story|report|piece|post)",
        ),
        (CORRECTION, r"\bthis (?:article|story|report|piece|post) (?:has been|was|is) (?:corrected|amended)\b"),
        (CORRECTION, r"\b(?:we|the \w+) (?:have|has) (?:corrected|amended) (?:this|the) (?:article|story|report)"),
        (CLARIFICATION, r"^\W{0,3}clarifications?\b\s*[:\-\u2013\u2014.]"),
        (CLARIFICATION, r"\bthis (?:article|story|report|piece) (?:has been|was) clarified\b"),
        (EDITORS_NOTE, r"^\W{0,3}(?:editor[\u2019']?s[\u2019']? note|note to readers|ed\. note)\b"),
        (UPDATE, r"\bthis (?:article|story|report|piece|post) (?:has been|was|is being) updated\b"),
        (UPDATE, r"^\W{0,3}(?:update|updated)\b\s*(?:\d|:|\u2013|\u2014|-)"),
        # German, French, Spanish, Italian, Dutch, Portuguese: the usual headings.
        (
            CORRECTION,
            r"^\W{0,3}(?:korrektur|berichtigung|correctif|rectificatif|correcci[oó]n|fe de errores|"
            r"correzione|rettifica|correctie|rectificatie|corre[cç][aã]o|errata)\b\s*[:\-\u2013\u2014.]",
        ),
        (CORRECTION, r"\bin einer (?:früheren|vorherigen|ersten) (?:version|fassung)\b"),
        (CORRECTION, r"\bune (?:version|précédente version) (?:précédente |antérieure )?de cet article\b"),
        (CORRECTION, r"\buna versi[oó]n anterior de (?:este|esta) (?:art[ií]culo|nota|informaci[oó]n)\b"),
        (CORRECTION, r"\buna versione precedente di questo articolo\b"),
        (CORRECTION, r"\bin een eerdere versie van dit (?:artikel|bericht)\b"),
        (CORRECTION, r"\buma vers[aã]o anterior deste (?:artigo|texto)\b"),
        (
            EDITORS_NOTE,
            r"^\W{0,3}(?:anm\. d\. red\.|anmerkung der redaktion|note de la r[ée]daction|nota del editor|"
            r"nota della redazione|noot van de redactie|nota do editor)\b",
        ),
    )
)
_PATTERNS = tuple(sorted(_PATTERNS, key=lambda found: not found[1].pattern.startswith("^")))
# Words one of the patterns needs (lower case): a text, and then a paragraph, without
# any of them is not searched with the patterns, which is most of every text and costs a
# substring test instead of twenty regular expressions.
_KEYS = (
    "correct",
    "clarif",
    "version of this",
    "note",
    "amend",
    "updat",
    "korrektur",
    "berichtigung",
    "rectifi",
    "correcc",
    "errores",
    "correzi",
    "rettific",
    "correç",
    "correca",
    "errata",
    "in einer",
    "de cet article",
    "anterior",
    "precedente",
    "eerdere",
    "anm. d",
    "redaktion",
    "redazione",
    "redactie",
    "nota d",
)
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_SENTENCE_END = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[\"\u201c(]?[A-Z\u00c0-\u00de])")
_SPACE = re.compile(r"\s+")
LONG_PARAGRAPH = 400  # a note inside a longer paragraph is looked for sentence by sentence


@dataclass(frozen=True)
class Note:
    kind: str  # CORRECTION, CLARIFICATION, EDITORS_NOTE or UPDATE
    text: str  # the note as the publisher wrote it, at most MAX_NOTE characters

    @property
    def is_correction(self) -> bool:
        """A correction or clarification, or a note of another kind that says something was wrong."""
        return self.kind in (CORRECTION, CLARIFICATION) or re.search(_WRONG, self.text, re.IGNORECASE) is not None


def notes_in(text: str) -> list[Note]:
    """Every correction, clarification, editor's or update note in `text`, in order."""
    if not _has_key(text):
        return []
    found = []
    for unit in _units(text):
        if not _has_key(unit):
            continue
        for kind, pattern in _PATTERNS:
            if pattern.search(unit):
                found.append(Note(kind, _clip(unit)))
                break
    return found


def _has_key(text: str) -> bool:
    lower = text.lower()
    return any(key in lower for key in _KEYS)


def _units(text: str) -> list[str]:
    """Paragraphs, and the sentences of long ones: a note may be a paragraph of its own
    or a sentence appended to the last one."""
    units = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = _SPACE.sub(" ", paragraph).strip()
        if len(paragraph) <= LONG_PARAGRAPH:
            units.append(paragraph)
        else:
            units += _SENTENCE_END.split(paragraph)
    return [unit for unit in units if unit]


def new_note(old_texts: list[str], new_texts: list[str]) -> Note | None:
    """The note the new version adds (a correction first, then the others), if any.

    `old_texts` and `new_texts` are the same fields (description, body) of both versions.
    """
    notes = [note for text in new_texts for note in notes_in(text)]
    if not notes:
        return None
    before = {note.text for text in old_texts for note in notes_in(text)}
    added = [note for note in notes if note.text not in before]
    if not added:
        return None
    return next((note for note in added if note.is_correction), added[0])


def _clip(text: str) -> str:
    if len(text) <= MAX_NOTE:
        return text
    return text[: MAX_NOTE - 1].rsplit(" ", 1)[0] + "\u2026"
