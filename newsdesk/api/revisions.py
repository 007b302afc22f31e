"""An article's revisions for the API: the same changes the article page shows, as data."""

from __future__ import annotations

from newsdesk.articles import revisions
from newsdesk.articles.models import Article
from newsdesk.articles.textdiff import Paragraph, Piece, TextDiff


def revisions_out(article: Article) -> list[dict]:
    """Newest change first (schemas.RevisionOut)."""
    return [
        {
            "revised_at": change.revised_at,
            "stated_at": change.stated_at,
            "is_correction": change.is_correction,
            "note_kind": change.note_kind,
            "note": change.note,
            "updates": change.updates,
            "title": _pieces(change.title) if change.title is not None else None,
            "description": _pieces(change.description) if change.description is not None else None,
            "body": _body(change.body) if change.body is not None else None,
            "words_added": change.body.inserted_words if change.body is not None else 0,
            "words_removed": change.body.deleted_words if change.body is not None else 0,
        }
        for change in revisions.cached_history(article)
    ]


def _pieces(pieces: tuple[Piece, ...]) -> list[dict]:
    return [{"kind": p.kind, "text": p.text} for p in pieces]


def _body(diff: TextDiff) -> list[dict]:
    return [
        {"unchanged": 0, "pieces": _pieces(part.pieces)}
        if isinstance(part, Paragraph)
        else {"unchanged": part.count, "pieces": []}
        for part in diff.parts
    ]
