"""The reader's own reading through the API: follows and mutes, For You, unread, saved.

Every operation needs a token and acts on the token's user only; changes are
idempotent (following twice is following once, removing what is not there is a 204) and
count against the same per-reader change limit as the site's buttons
(newsdesk/reader/limits.py) besides the token's request limit.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from newsdesk.api import serialize
from newsdesk.api.auth import RateLimited, token_required
from newsdesk.api.endpoints.common import errors, id_param, invalid, not_found
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.schemas import ArticleItem, PageInfo, StoryRef
from newsdesk.articles.models import Article
from newsdesk.reader import foryou, interests, new_since, saved, state
from newsdesk.reader.limits import action_wait
from newsdesk.reader.models import Interest, Saved

router = Router(tags=["reading"], auth=token_required)

# Members built at import from Interest.Kind, which mypy cannot see (hence the ignore).
InterestKind = Enum("InterestKind", {value: value for value in Interest.Kind.values}, type=str)  # type: ignore[misc]
MAX_IDS = 200


class InterestIn(Schema):
    kind: InterestKind = Field(description="source, hashtag, section, story, search (follow only) or word (mute only)")
    key: str = Field(
        min_length=1,
        max_length=500,
        description="a source, hashtag or section slug, a story id, a search's query string (q=...&section=...) or a word",
    )


class InterestOut(Schema):
    kind: str
    key: str = Field(description="normalised: the same thing always has the same key")
    label: str
    site_url: str | None = Field(description="the thing's page on this site (null for a word)")
    muted: bool
    count: int | None = Field(
        None, description="unread articles (a source) or new ones since the reader last opened its page; null for mutes"
    )
    more: bool = Field(False, description="there are more than `count` (counting stops there)")
    since: datetime | None = Field(None, description="where the count starts")


class InterestList(Schema):
    items: list[InterestOut]


class ReasonOut(Schema):
    kind: str = Field(description="the weight's name, as /reading/for-you/how/ lists it")
    text: str
    points: float
    url: str | None


class ForYouEntry(Schema):
    article: ArticleItem = Field(description="the story's best article for this reader")
    story: StoryRef | None
    more_sources: int = Field(description="other publishers covering the story")
    score: float
    reasons: list[ReasonOut] = Field(description="why it is here, strongest first")
    score_parts: list[ReasonOut] = Field(description="every term of the score")
    read: bool


class ForYouOut(Schema):
    since: datetime = Field(description="candidates were published after this")
    items: list[ForYouEntry]


class CountsOut(Schema):
    total: int = Field(description="the sum of the counts")
    items: list[InterestOut]


class UnreadPage(PageInfo):
    items: list[ArticleItem]


class ReadIn(Schema):
    article_ids: list[int] = Field(max_length=MAX_IDS, description=f"at most {MAX_IDS}")
    read: bool = Field(True, description="false keeps them unread")


class ReadOut(Schema):
    changed: int = Field(description="how many of the ids are articles")


class SavedIn(Schema):
    article_id: int = Field(ge=1, le=2**63 - 1)
    note: str | None = Field(None, max_length=saved.MAX_NOTE, description="null keeps the note it has")


class SavedOut(Schema):
    article: ArticleItem
    note: str
    saved_at: datetime


class SavedPage(PageInfo):
    items: list[SavedOut]


# --- helpers ---------------------------------------------------------------------------------


def _user(request: HttpRequest) -> Any:
    return request.auth.user


def _count_change(request: HttpRequest) -> None:
    """The site's per-reader change limit, for the API's changes too."""
    if wait := action_wait(_user(request)):
        raise RateLimited(wait, settings.NEWSDESK_READER_ACTIONS_PER_MINUTE, 60)


def _site(request: HttpRequest, path: str) -> str | None:
    return serialize.site_url(request, path) if path else None


def _counted(request: HttpRequest, item: new_since.Count) -> dict:
    return {
        "kind": item.kind,
        "key": item.key,
        "label": item.label,
        "site_url": _site(request, item.url),
        "muted": False,
        "count": item.count,
        "more": item.more,
        "since": item.since,
    }


def _target(request: HttpRequest, target: interests.Target, *, muted: bool) -> dict:
    return {
        "kind": target.kind,
        "key": target.key,
        "label": target.label,
        "site_url": _site(request, target.url),
        "muted": muted,
    }


def _change(request: HttpRequest, change: Any, kind: Any, key: str, where: str) -> interests.Target:
    _count_change(request)
    try:
        return change(_user(request), kind.value, key)
    except interests.InterestError as error:
        raise invalid([where, "key"], str(error)) from error


# --- follows and mutes -----------------------------------------------------------------------


@router.get("/reading/follows", response={200: InterestList, **errors()})
def list_follows(request: HttpRequest) -> dict:
    """What the reader follows, each with its unread (source) or new count."""
    return {"items": [_counted(request, item) for item in new_since.counts(_user(request))]}


@router.post("/reading/follows", response={200: InterestOut, **errors(400)})
def add_follow(request: HttpRequest, body: InterestIn) -> dict:
    """Follow a source, hashtag, section, story or saved search (a mute of it is lifted)."""
    target = _change(request, interests.follow, body.kind, body.key, "body")
    return _target(request, target, muted=False)


@router.delete("/reading/follows", response={204: None, **errors()})
def remove_follow(
    request: HttpRequest,
    kind: InterestKind = Query(...),
    key: str = Query(..., min_length=1, max_length=500),
) -> Status[None]:
    """Stop following it (nothing happens when it was not followed)."""
    _change(request, interests.unfollow, kind, key, "query")
    return Status(204, None)


@router.get("/reading/mutes", response={200: InterestList, **errors()})
def list_mutes(request: HttpRequest) -> dict:
    """Muted sources, hashtags, sections and words: they never appear in For You."""
    rows = Interest.objects.filter(user=_user(request), muted=True).order_by("kind", "label")
    return {
        "items": [
            {
                "kind": row.kind,
                "key": row.key,
                "label": row.label,
                "site_url": _site(request, interests.url_of(row.kind, row.key)),
                "muted": True,
            }
            for row in rows
        ]
    }


@router.post("/reading/mutes", response={200: InterestOut, **errors(400)})
def add_mute(request: HttpRequest, body: InterestIn) -> dict:
    """Mute a source, hashtag, section or word (a follow of it is dropped)."""
    target = _change(request, interests.mute, body.kind, body.key, "body")
    return _target(request, target, muted=True)


@router.delete("/reading/mutes", response={204: None, **errors()})
def remove_mute(
    request: HttpRequest,
    kind: InterestKind = Query(...),
    key: str = Query(..., min_length=1, max_length=500),
) -> Status[None]:
    """Unmute it (nothing happens when it was not muted)."""
    _change(request, interests.unmute, kind, key, "query")
    return Status(204, None)


# --- For You -----------------------------------------------------------------------------------


def _reason(request: HttpRequest, reason: foryou.Reason) -> dict:
    return {
        "kind": reason.weight.name,
        "text": reason.text,
        "points": round(reason.points, 3),
        "url": _site(request, reason.url),
    }


@router.get("/reading/for-you", response={200: ForYouOut, **errors()})
def for_you(request: HttpRequest, limit: int = Query(foryou.PAGE, ge=1, le=50)) -> dict:
    """The reader's For You page: one entry per story, best first, each with its reasons
    and the terms of its score (see /reading/for-you/how/ on the site)."""
    found = foryou.for_you(_user(request), limit=limit)
    articles = {a.pk: a for a in serialize.in_order([entry.article.pk for entry in found.entries])}
    items = []
    for entry in found.entries:
        article = articles.get(entry.article.pk)
        if article is None:
            continue
        story = None
        if entry.story_id is not None:
            story = {"id": entry.story_id, "title": entry.story_title, "article_count": 0, "publisher_count": 0}
            story["publisher_count"] = entry.more_sources + 1
        items.append(
            {
                "article": serialize.article_item(request, article),
                "story": story,
                "more_sources": entry.more_sources,
                "score": entry.score,
                "reasons": [_reason(request, r) for r in entry.reasons],
                "score_parts": [_reason(request, r) for r in entry.parts],
                "read": entry.read,
            }
        )
    _story_counts(items)
    return {"since": found.since, "items": items}


def _story_counts(items: list[dict]) -> None:
    from newsdesk.stories.models import Story

    ids = [item["story"]["id"] for item in items if item["story"]]
    counts = dict(Story.objects.filter(pk__in=ids).values_list("pk", "article_count"))
    for item in items:
        if item["story"]:
            item["story"]["article_count"] = counts.get(item["story"]["id"], 0)


# --- unread ----------------------------------------------------------------------------------


@router.get("/reading/unread", response={200: UnreadPage, **errors()})
def list_unread(request: HttpRequest, limit: int = limit_param(), offset: int = offset_param()) -> dict:
    """Unread articles of the sources the reader follows, newest first (the site's Unread page)."""
    queryset = state.followed_unread(_user(request))
    count = queryset.count()
    ids = list(queryset.values_list("id", flat=True)[offset : offset + limit])
    items = [serialize.article_item(request, a) for a in serialize.in_order(ids)]
    return page(request, items, count=count, limit=limit, offset=offset)


@router.get("/reading/unread/counts", response={200: CountsOut, **errors()})
def unread_counts(request: HttpRequest) -> dict:
    """Per followed thing: unread (sources) or new since last opened (the rest)."""
    found = new_since.counts(_user(request))
    return {"total": new_since.new_count(found), "items": [_counted(request, item) for item in found]}


@router.post("/reading/read", response={200: ReadOut, **errors(400)})
def mark_read(request: HttpRequest, body: ReadIn) -> dict:
    """Mark articles read (or, with read false, keep them unread)."""
    _count_change(request)
    ids = [pk for pk in body.article_ids if 0 < pk < 2**63]
    change = state.mark_read if body.read else state.mark_unread
    return {"changed": change(_user(request), ids)}


# --- saved -----------------------------------------------------------------------------------


def _saved_out(request: HttpRequest, row: Saved, article: Article) -> dict:
    return {"article": serialize.article_item(request, article), "note": row.note, "saved_at": row.saved_at}


@router.get("/reading/saved", response={200: SavedPage, **errors()})
def list_saved(request: HttpRequest, limit: int = limit_param(), offset: int = offset_param()) -> dict:
    """Saved articles, latest saved first, with the reader's notes."""
    rows = Saved.objects.filter(user=_user(request)).order_by("-saved_at", "-pk")
    count = rows.count()
    chosen = list(rows[offset : offset + limit])
    articles = {a.pk: a for a in serialize.in_order([row.article_id for row in chosen])}
    items = [_saved_out(request, row, articles[row.article_id]) for row in chosen if row.article_id in articles]
    return page(request, items, count=count, limit=limit, offset=offset)


@router.post("/reading/saved", response={200: SavedOut, **errors(400, 404)})
def save(request: HttpRequest, body: SavedIn) -> dict:
    """Save an article (again: keeps the first save; a note replaces the note)."""
    article = Article.objects.filter(pk=body.article_id).first()
    if article is None:
        raise not_found(f"There is no article {body.article_id}.")
    _count_change(request)
    row = saved.save(_user(request), article, body.note.strip() if body.note is not None else None)
    return _saved_out(request, row, serialize.in_order([article.pk])[0])


@router.delete("/reading/saved/{article_id}", response={204: None, **errors()})
def unsave(request: HttpRequest, article_id: int = id_param("article")) -> Status[None]:
    """Remove an article from saved (nothing happens when it was not saved)."""
    _count_change(request)
    saved.unsave(_user(request), [article_id])
    return Status(204, None)
