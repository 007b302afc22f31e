"""Sources (publishers) and their feeds: everyone reads, staff write.

A feed added here is only recorded; the scheduler polls it when due (no fetching in a
web request), and its health shows up in `last_*` once it has been fetched.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status

from newsdesk.api import serialize
from newsdesk.api.auth import caller, is_staff, token_required
from newsdesk.api.endpoints.common import (
    OPTIONAL_TOKEN,
    conflict,
    errors,
    forbidden,
    id_param,
    not_found,
)
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.schemas import (
    SLUG_PATTERN,
    FeedIn,
    FeedOut,
    FeedPatch,
    PageInfo,
    SourceDetail,
    SourceIn,
    SourceKind,
    SourceOut,
    SourcePatch,
)
from newsdesk.perspectives.export import source_profile
from newsdesk.sources.models import Feed, Source
from newsdesk.sources.subscribe import change_feed

router = Router(tags=["sources"])


class SourceProfileOut(Schema):
    """Who the publisher is (newsdesk/perspectives/): its profile's facts, or for a fact
    the profile leaves blank the source's own country, language and kind."""

    country: str = Field(description="ISO 3166-1 alpha-2")
    country_name: str
    region: str = Field(description="europe, north-america, latin-america, middle-east, africa, asia, oceania")
    region_name: str
    language: str
    language_name: str
    kind: str = Field(description="wire, public, commercial, state, independent or blog")
    kind_label: str
    owner: str
    parent_company: str
    founded: int | None = Field(description="year")
    sources: dict[str, str] = Field(description="where each fact comes from: fact name -> URL")
    described: bool = Field(description="false: nobody has described this publisher yet")


class SourceWithProfile(SourceOut):
    profile: SourceProfileOut


class SourcePageWithProfiles(PageInfo):
    items: list[SourceWithProfile]


class SourceDetailWithProfile(SourceDetail):
    profile: SourceProfileOut


STAFF_ONLY = "Only staff can add, change or delete sources and feeds."


def slug_param() -> Any:
    return Path(..., max_length=100, pattern=SLUG_PATTERN, description="the source's slug")


def _staff(request: HttpRequest) -> None:
    if not is_staff(caller(request)):
        raise forbidden(STAFF_ONLY)


def _source(slug: str) -> Source:
    source = Source.objects.annotate(feed_count=Count("feeds")).filter(slug=slug).first()
    if source is None:
        raise not_found(f"There is no source {slug!r}.")
    return source


def _feed(feed_id: int) -> Feed:
    feed = Feed.objects.select_related("source").filter(pk=feed_id).first()
    if feed is None:
        raise not_found(f"There is no feed {feed_id}.")
    return feed


def _detail(request: HttpRequest, source: Source) -> dict:
    feeds = [serialize.feed_out(f, source.slug) for f in source.feeds.order_by("url")]
    return {**serialize.source_out(request, source, len(feeds)), "feeds": feeds, "profile": source_profile(source)}


def _slug_taken(slug: str, *, other_than: int | None = None) -> bool:
    return Source.objects.filter(slug=slug).exclude(pk=other_than).exists()


def _url_taken(url: str) -> str | None:
    feed = Feed.objects.select_related("source").filter(url=url).first()
    return f"{url} is already a feed of {feed.source.slug} (feed {feed.pk})." if feed else None


# --- Sources -----------------------------------------------------------------------------


@router.get("/sources", response={200: SourcePageWithProfiles, **errors()}, openapi_extra=OPTIONAL_TOKEN)
def list_sources(
    request: HttpRequest,
    country: str | None = Query(None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2"),
    language: str | None = Query(None, max_length=8, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"),
    kind: SourceKind | None = Query(None),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> dict:
    """Sources by name."""
    sources = Source.objects.annotate(feed_count=Count("feeds"))
    if country:
        sources = sources.filter(country__iexact=country)
    if language:
        sources = sources.filter(language__iexact=language)
    if kind:
        sources = sources.filter(kind=kind.value)
    count = sources.count()
    rows = sources.order_by("name", "id")[offset : offset + limit]
    return page(
        request,
        [{**serialize.source_out(request, s), "profile": source_profile(s)} for s in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


@router.post("/sources", auth=token_required, response={201: SourceDetailWithProfile, **errors(400, 403, 409)})
def create_source(request: HttpRequest, payload: SourceIn) -> Status[dict]:
    """Add a source (staff only)."""
    _staff(request)
    if _slug_taken(payload.slug):
        raise conflict(f"There is already a source {payload.slug!r}.")
    try:
        with transaction.atomic():
            source = Source.objects.create(**{**payload.dict(), "kind": payload.kind.value})
    except IntegrityError:  # created at the same moment by someone else
        raise conflict(f"There is already a source {payload.slug!r}.") from None
    return Status(201, _detail(request, source))


@router.get("/sources/{slug}", response={200: SourceDetailWithProfile, **errors(404)}, openapi_extra=OPTIONAL_TOKEN)
def get_source(request: HttpRequest, slug: str = slug_param()) -> dict:
    """One source with its feeds and their health."""
    return _detail(request, _source(slug))


@router.patch(
    "/sources/{slug}",
    auth=token_required,
    response={200: SourceDetailWithProfile, **errors(400, 403, 404, 409)},
)
def update_source(request: HttpRequest, payload: SourcePatch, slug: str = slug_param()) -> dict:
    """Change a source (staff only); fields left out stay as they are."""
    _staff(request)
    source = _source(slug)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if "kind" in changes and payload.kind is not None:
        changes["kind"] = payload.kind.value
    if "slug" in changes and _slug_taken(changes["slug"], other_than=source.pk):
        raise conflict(f"There is already a source {changes['slug']!r}.")
    for field, value in changes.items():
        setattr(source, field, value)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        raise conflict(f"There is already a source {changes.get('slug')!r}.") from None
    return _detail(request, source)


@router.delete("/sources/{slug}", auth=token_required, response={204: None, **errors(403, 404)})
def delete_source(request: HttpRequest, slug: str = slug_param()) -> Status[None]:
    """Delete a source with its feeds and articles (staff only)."""
    _staff(request)
    _source(slug).delete()
    return Status(204, None)


# --- Feeds -------------------------------------------------------------------------------


@router.get(
    "/sources/{slug}/feeds",
    response={200: list[FeedOut], **errors(404)},
    openapi_extra=OPTIONAL_TOKEN,
)
def list_feeds(request: HttpRequest, slug: str = slug_param()) -> list[dict]:
    """A source's feeds and their health."""
    source = _source(slug)
    return [serialize.feed_out(f, source.slug) for f in source.feeds.order_by("url")]


@router.post(
    "/sources/{slug}/feeds",
    auth=token_required,
    response={201: FeedOut, **errors(400, 403, 404, 409)},
)
def create_feed(request: HttpRequest, payload: FeedIn, slug: str = slug_param()) -> Status[dict]:
    """Subscribe a source to a feed (staff only). It is polled as soon as the scheduler runs."""
    _staff(request)
    source = _source(slug)
    if message := _url_taken(payload.url):
        raise conflict(message)
    try:
        with transaction.atomic():
            feed = Feed.objects.create(
                source=source,
                url=payload.url,
                title=payload.title,
                enabled=payload.enabled,
                next_fetch_at=timezone.now(),
            )
    except IntegrityError:
        raise conflict(f"{payload.url} is already a feed.") from None
    return Status(201, serialize.feed_out(feed, source.slug))


@router.get("/feeds/{feed_id}", response={200: FeedOut, **errors(404)}, openapi_extra=OPTIONAL_TOKEN)
def get_feed(request: HttpRequest, feed_id: int = id_param("feed")) -> dict:
    """One feed and its health."""
    return serialize.feed_out(_feed(feed_id))


@router.patch("/feeds/{feed_id}", auth=token_required, response={200: FeedOut, **errors(400, 403, 404, 409)})
def update_feed(request: HttpRequest, payload: FeedPatch, feed_id: int = id_param("feed")) -> dict:
    """Change a feed's URL, title, or turn it on or off (staff only)."""
    _staff(request)
    feed = _feed(feed_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if "url" in changes and changes["url"] != feed.url:
        if message := _url_taken(changes["url"]):
            raise conflict(message)
    change_feed(feed, **changes)  # a new address or a feed turned on is polled soon
    try:
        with transaction.atomic():
            feed.save()
    except IntegrityError:
        raise conflict(f"{changes.get('url')} is already a feed.") from None
    return serialize.feed_out(feed)


@router.delete("/feeds/{feed_id}", auth=token_required, response={204: None, **errors(403, 404)})
def delete_feed(request: HttpRequest, feed_id: int = id_param("feed")) -> Status[None]:
    """Unsubscribe from a feed (staff only); its articles stay."""
    _staff(request)
    _feed(feed_id).delete()
    return Status(204, None)
