""" "What changed" on the article page: the article's revisions as readers see them.

The diffs are computed when the page is rendered (the anonymous page is cached until
the article changes, and an update saves the article, which gives its page a new
version: `newsdesk.web.pagecache`) and remembered per version of the article
(`revisions.cached_history`). One indexed query for an article that never changed.
While the AI summary predates the newest text (the enrichment runs after the update),
only its sentences that the newest text still has are shown.
"""

from __future__ import annotations

import re

from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe

from newsdesk.articles import revisions
from newsdesk.articles.models import Article, Enrichment
from newsdesk.articles.textdiff import DELETED, INSERTED, Paragraph, Piece, TextDiff, Unchanged

# Spoken and printed markers: screen readers mostly say nothing of <ins>/<del>, and a
# reader without CSS sees the brackets and the words (visually hidden with the CSS).
_OPEN = {INSERTED: "[added: ", DELETED: "[removed: "}
_HEADED = re.compile(r"^\W{0,3}[\w'\u2019 .-]{1,30}:")
_KIND_LABEL = {
    "correction": "Correction",
    "clarification": "Clarification",
    "editors-note": "Editor's note",
    "update": "Update note",
}


def context(item: Article) -> dict:
    """What the article template needs for "What changed" (nothing when never changed)."""
    history = revisions.cached_history(item)
    if not history:
        return {"changes": []}
    changes = [_view(change) for change in history]
    correction = next((c for c in changes if c["is_correction"]), None)
    # By the date: "Corrected 2 hours ago", and "updated 20 minutes ago" when it changed since.
    flagged = correction or changes[0]
    return {
        "changes": changes,
        "corrected": correction is not None,
        "flag_at": flagged["revised_at"],
        "updated_since": changes[0]["revised_at"] if flagged is not changes[0] else None,
        "update_count": sum(c["updates"] for c in changes),
    }


def outdated(item: Article, enrichment: Enrichment | None) -> bool:
    """Whether the enrichment was made from a text the publisher has since changed."""
    return enrichment is not None and revisions.enrichment_is_stale(item, enrichment.enriched_at)


def summary_now(item: Article, enrichment: Enrichment | None) -> str:
    """The summary to show: an outdated one keeps only the sentences still in the text."""
    if enrichment is None:
        return ""
    summary = enrichment.llm_summary or enrichment.summary
    if summary and revisions.enrichment_is_stale(item, enrichment.enriched_at):
        return " ".join(revisions.still_said(enrichment.summary, item.body_text))
    return summary


def _view(change: revisions.Change) -> dict:
    return {
        "revised_at": change.revised_at,
        "stated_at": change.stated_at,
        "is_correction": change.is_correction,
        "note": change.note,
        # "Correction: ..." needs no label; "An earlier version of this article ..." does.
        "note_label": "" if _HEADED.match(change.note) else _KIND_LABEL.get(change.note_kind, "Note"),
        "updates": change.updates,
        "title": pieces_html(change.title) if change.title is not None else "",
        "description": pieces_html(change.description) if change.description is not None else "",
        "body": _body(change.body) if change.body is not None else [],
        "more": change.body.more if change.body is not None else 0,
        "counts": _counts(change.body),
    }


def _counts(body: TextDiff | None) -> str:
    """ "12 words added, 3 removed", or one of the two."""
    if body is None or not body.changed:
        return ""
    added = f"{body.inserted_words} word{'s' if body.inserted_words != 1 else ''} added"
    removed = f"{body.deleted_words} word{'s' if body.deleted_words != 1 else ''} removed"
    if not body.deleted_words:
        return added
    if not body.inserted_words:
        return removed
    return f"{added}, {body.deleted_words} removed"


def _body(diff: TextDiff) -> list[dict]:
    out = []
    for part in diff.parts:
        if isinstance(part, Unchanged):
            out.append({"unchanged": part.count})
        elif isinstance(part, Paragraph):
            out.append({"html": pieces_html(part.pieces)})
    return out


def pieces_html(pieces: tuple[Piece, ...] | list[Piece]) -> SafeString:
    """Escaped text with the changes in <ins>/<del>, each with its spoken marker."""
    return mark_safe(
        "".join(
            escape(p.text)
            if p.kind not in _OPEN
            else format_html_join(
                "",
                '<{0}><span class="visually-hidden">{1}</span>{2}<span class="visually-hidden">]</span></{0}>',
                [(p.kind, _OPEN[p.kind], p.text)],
            )
            for p in pieces
        )
    )
