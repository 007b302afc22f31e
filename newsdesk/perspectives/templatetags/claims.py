"""`{% story_claims story as claims %}`: where a story's publishers agree and differ."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import template

from newsdesk.perspectives.alignment import Agreement, StoryClaims
from newsdesk.perspectives.alignment import story_claims as read_story_claims

register = template.Library()

SHOWN = 6  # agreements shown before the rest fold into "N more"


@register.simple_tag
def story_claims(story: Any) -> StoryClaims:
    found = read_story_claims(story)
    found.agreements = one_row_per_sentences(found.agreements)
    return found


def one_row_per_sentences(agreements: list[Agreement]) -> list[Agreement]:
    """Agreements that cite the very same sentences are one row on the page, with every
    figure they agree on ("30 min · two stairs"): a reader saw one quotation twice. The
    API keeps them apart, one claim each."""
    rows: dict[frozenset[tuple[int, int]], tuple[Agreement, list[str]]] = {}
    for agreement in agreements:
        key = frozenset((c.article.pk, c.sentence) for c in agreement.citations)
        first, values = rows.setdefault(key, (agreement, []))
        if agreement.value and agreement.value not in values:
            values.append(agreement.value)
    return [replace(first, value=" · ".join(values)) for first, values in rows.values()]


_OUTER = '"“”„«»'
_NESTED = {"“": "‘", "”": "’", "„": "‚", "«": "‹", "»": "›"}


@register.filter
def inside_quotes(text: str) -> str:
    """A sentence to print inside the template's own quotation marks (`<q>`): a sentence
    that is one quotation loses its outer marks, once; a quotation inside it gets the
    single marks of a quotation within a quotation. Printed as it was, a sentence ending
    in its own closing mark showed two on real pages ("...home.””")."""
    text = (text or "").strip()
    if len(text) > 2 and text[0] in _OUTER and text[-1] in _OUTER and not any(c in _OUTER for c in text[1:-1]):
        return text[1:-1]
    out = []
    for i, char in enumerate(text):
        if char == '"':
            opening = i == 0 or text[i - 1].isspace() or text[i - 1] in "([{—–-"
            out.append("‘" if opening else "’")
        else:
            out.append(_NESTED.get(char, char))
    return "".join(out)
