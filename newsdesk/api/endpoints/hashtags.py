"""Hashtags: by use, trending in a recent window, and one with its articles."""

from __future__ import annotations

from enum import Enum

from django.http import HttpRequest
from ninja import Path, Query, Router

from newsdesk.api import serialize
from newsdesk.api.endpoints.common import OPTIONAL_TOKEN, errors, not_found
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.schemas import HashtagDetail, HashtagPage, TrendingOut
from newsdesk.articles import trending
from newsdesk.articles.models import Article, Hashtag
from newsdesk.stories import copies

router = Router(tags=["hashtags"])

# Members built at import from Hashtag.Kind, which mypy cannot see (hence the ignore).
HashtagKind = Enum("HashtagKind", {value: value for value in Hashtag.Kind.values}, type=str)  # type: ignore[misc]


@router.get("/hashtags", response={200: HashtagPage, **errors()}, openapi_extra=OPTIONAL_TOKEN)
def list_hashtags(
    request: HttpRequest,
    kind: HashtagKind | None = Query(None, description="person, place, organization or topic"),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> dict:
    """Hashtags, most used first."""
    tags = Hashtag.objects.filter(article_count__gt=0)
    if kind:
        tags = tags.filter(kind=kind.value)
    count = tags.count()
    rows = tags.order_by("-article_count", "name", "id")[offset : offset + limit]
    return page(
        request,
        [serialize.hashtag_out(request, t) for t in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


@router.get("/trending/hashtags", response={200: TrendingOut, **errors()}, openapi_extra=OPTIONAL_TOKEN)
def trending_hashtags(
    request: HttpRequest,
    hours: int = Query(24, ge=1, le=24 * 30, description="the window: articles published in the last N hours"),
    kind: HashtagKind | None = Query(None),
    limit: int = Query(20, ge=1, le=100),
) -> dict:
    """The hashtags that rose most in the last `hours` against the `hours` before, on
    at least two articles of the window: the home page's trending box, with its window.
    When nothing was published in the last `hours`, the window ends at the newest
    tagged article (`until`)."""
    found = trending.trending_hashtags(limit, hours=hours, kind=kind.value if kind else None)
    items = [
        {**serialize.hashtag_out(request, trend.hashtag), "recent_count": trend.recent, "before_count": trend.before}
        for trend in found.trends
    ]
    return {"hours": hours, "since": found.since, "until": found.until, "items": items}


@router.get("/hashtags/{slug}", response={200: HashtagDetail, **errors(404)}, openapi_extra=OPTIONAL_TOKEN)
def get_hashtag(
    request: HttpRequest,
    slug: str = Path(..., max_length=120, description="the hashtag's slug"),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> dict:
    """One hashtag and its articles, newest first."""
    tag = Hashtag.objects.filter(slug=slug.lower()).first()
    if tag is None:
        raise not_found(f"There is no hashtag #{slug}.")
    queryset = copies.fold(Article.objects.filter(article_hashtags__hashtag=tag))
    count = queryset.count()
    ids = list(queryset.order_by("-published_at", "-id").values_list("id", flat=True)[offset : offset + limit])
    items = [{**serialize.article_item(request, a), "match": None} for a in serialize.in_order(ids)]
    return {
        **serialize.hashtag_out(request, tag),
        "articles": page(request, items, count=count, limit=limit, offset=offset),
    }
