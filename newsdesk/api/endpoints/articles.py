"""Articles: the filtered list (and full-text search), one article, related articles."""

from __future__ import annotations

import html
from datetime import date

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import field_validator, model_validator

from newsdesk.api import serialize
from newsdesk.api.endpoints.common import OPTIONAL_TOKEN, errors, id_param, invalid, not_found
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.revisions import revisions_out
from newsdesk.api.schemas import (
    LANGUAGE_PATTERN,
    SLUG_PATTERN,
    ArticleDetail,
    ArticlePage,
    RelatedOut,
    Section,
)
from newsdesk.articles.models import Article
from newsdesk.comments.models import Comment
from newsdesk.perspectives.alignment import article_claims_data
from newsdesk.perspectives.export import story_coverage
from newsdesk.perspectives.primary import article_primary_sources
from newsdesk.search import backends
from newsdesk.search.query import MAX_QUERY_CHARS, clean, parse
from newsdesk.search.types import MAX_OFFSET, SearchFilters, time_bounds
from newsdesk.stories import copies
from newsdesk.stories.models import Story

router = Router(tags=["articles"])


class ArticleFilters(Schema):
    source: str | None = Field(None, max_length=100, pattern=SLUG_PATTERN, description="a source's slug")
    section: Section | None = Field(None, description="the AI section")
    hashtag: str | None = Field(None, max_length=121, description='a hashtag\'s slug; "#Kyiv" is read as "kyiv"')
    language: str | None = Field(None, max_length=12, pattern=LANGUAGE_PATTERN, description='"en" also matches "en-GB"')
    from_: date | None = Field(None, alias="from", description="published on or after this day (site time zone)")
    to: date | None = Field(None, description="published on or before this day (site time zone)")

    @field_validator("hashtag")
    @classmethod
    def check_hashtag(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:  # no stored slug has one; PostgreSQL refuses it
            raise ValueError("a hashtag's slug has no NUL character")
        return (value.strip().lstrip("#").lower() or None) if value is not None else None

    @model_validator(mode="after")
    def check_range(self):
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("'to' is before 'from'")
        return self

    def search_filters(self) -> SearchFilters:
        return SearchFilters(
            source=self.source or None,
            section=self.section.value if self.section else None,
            hashtag=self.hashtag or None,
            language=self.language.lower() if self.language else None,
            since=self.from_,
            until=self.to,
        )


def _filtered(filters: SearchFilters) -> QuerySet[Article]:
    """The articles the filters select, each text once (newsdesk/stories/copies.py)."""
    if filters == SearchFilters():
        return copies.originals_only(Article.objects.all())  # every original is listed
    queryset = Article.objects.all()
    if filters.source:
        queryset = queryset.filter(source__slug=filters.source)
    if filters.section:
        queryset = queryset.filter(enrichment__section=filters.section)
    if filters.hashtag:
        queryset = queryset.filter(article_hashtags__hashtag__slug=filters.hashtag)
    if filters.language:
        queryset = queryset.filter(
            Q(language__iexact=filters.language) | Q(language__istartswith=filters.language + "-")
        )
    start, end = time_bounds(filters)
    if start:
        queryset = queryset.filter(published_at__gte=start)
    if end:
        queryset = queryset.filter(published_at__lt=end)
    return copies.fold(queryset)


def _plain(snippet_html: str) -> str:
    return html.unescape(snippet_html.replace("<mark>", "").replace("</mark>", ""))


def listing(
    request: HttpRequest,
    q: str | None,
    filters: ArticleFilters,
    limit: int,
    offset: int,
    *,
    searching: bool = False,
) -> dict:
    """The article list, newest first; with `q` (or `searching`), search hits, best first."""
    search_filters = filters.search_filters()
    query = clean(q or "")
    if not query and not searching:
        queryset = _filtered(search_filters)
        count = queryset.count()
        ids = list(queryset.order_by("-published_at", "-id").values_list("id", flat=True)[offset : offset + limit])
        items = [{**serialize.article_item(request, a), "match": None} for a in serialize.in_order(ids)]
        return page(request, items, count=count, limit=limit, offset=offset)

    if offset > MAX_OFFSET:
        raise invalid(
            ["query", "offset"],
            f"search results go {MAX_OFFSET:,} deep at most; narrow the search instead",
            "less_than_equal",
        )
    if not parse(query):  # only excluded words, or nothing searchable
        return page(request, [], count=0, limit=limit, offset=offset)
    hits, total = backends.search(query, search_filters, offset=offset, limit=limit)
    found = {article.pk: article for article in serialize.in_order(hit.article_id for hit in hits)}
    items = [
        {
            **serialize.article_item(request, found[hit.article_id]),
            "match": {
                "score": hit.score,
                "snippet": _plain(hit.snippet),
                "snippet_html": hit.snippet,
            },
        }
        for hit in hits
        if hit.article_id in found
    ]
    return page(request, items, count=total, limit=limit, offset=offset, max_offset=MAX_OFFSET)


@router.get("/articles", response={200: ArticlePage, **errors()}, openapi_extra=OPTIONAL_TOKEN)
def list_articles(
    request: HttpRequest,
    filters: Query[ArticleFilters],
    q: str | None = Query(
        None,
        max_length=MAX_QUERY_CHARS * 4,
        description='full-text search: words, "a phrase", -excluded',
    ),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> dict:
    """Articles, newest first; with `q`, the search results, best first (as /search)."""
    return listing(request, q, filters, limit, offset)


@router.get(
    "/search",
    response={200: ArticlePage, **errors()},
    openapi_extra=OPTIONAL_TOKEN,
    tags=["search"],
)
def search(
    request: HttpRequest,
    filters: Query[ArticleFilters],
    q: str = Query(
        ...,
        min_length=1,
        max_length=MAX_QUERY_CHARS * 4,
        description='words, "a phrase", -excluded',
    ),
    limit: int = limit_param(),
    offset: int = offset_param(MAX_OFFSET),
) -> dict:
    """Full-text search, best match first (relevance with a bonus for freshness)."""
    return listing(request, q, filters, limit, offset, searching=True)


def _article(article_id: int, *, with_body: bool = False) -> Article:
    article = serialize.articles(with_body=with_body).filter(pk=article_id).first()
    if article is None:
        raise not_found(f"There is no article {article_id}.")
    return article


def _story_of(article: Article) -> Story | None:
    """The story the article is in, following merges to the story that absorbed it."""
    from newsdesk.stories.models import StoryMember

    member = StoryMember.objects.filter(article=article).select_related("story").first()
    story = member.story if member else None
    for _ in range(10):  # follow merges to the story that absorbed this one
        if story is None or story.merged_into_id is None:
            break
        story = story.merged_into
    if story is None or story.merged_into_id is not None:
        return None
    return story


def _story_ref(story: Story | None) -> dict | None:
    if story is None:
        return None
    return {
        "id": story.pk,
        "title": story.title,
        "article_count": story.article_count,
        "publisher_count": story.publisher_count,
    }


@router.get(
    "/articles/{article_id}",
    response={200: ArticleDetail, **errors(404)},
    openapi_extra=OPTIONAL_TOKEN,
)
def get_article(request: HttpRequest, article_id: int = id_param("article")) -> dict:
    """One article with its text and its enrichment (summary, key points, section...)."""
    from newsdesk.stories.models import NearDuplicate

    article = _article(article_id, with_body=True)
    story = _story_of(article)
    return {
        **serialize.article_item(request, article),
        "body_text": article.body_text,
        "body_html": article.body_html,
        "publisher_sections": article.publisher_sections,
        "enrichment": serialize.enrichment_out(serialize.enrichment_of(article)),
        "story": _story_ref(story),
        "duplicate_of": NearDuplicate.objects.filter(article=article).values_list("original_id", flat=True).first(),
        "comment_count": Comment.objects.filter(article=article, status=Comment.Status.PUBLISHED).count(),
        "revisions": revisions_out(article),
        "coverage": story_coverage([story])[story.pk] if story is not None else None,
        **article_claims_data(article, story),
        "primary_sources": article_primary_sources(article, story),
    }


@router.get(
    "/articles/{article_id}/related",
    response={200: RelatedOut, **errors(404)},
    openapi_extra=OPTIONAL_TOKEN,
)
def get_related(
    request: HttpRequest,
    article_id: int = id_param("article"),
    limit: int = Query(10, ge=1, le=50, description="at most this many"),
) -> dict:
    """Articles related to this one, best first: coverage of the same story by other
    publishers, then articles on the same topic and entities (as on the article page)."""
    from newsdesk.stories.related_db import related_for

    article = _article(article_id)
    ids = [item.article.pk for item in related_for(article, limit)]
    return {"items": [serialize.article_item(request, a) for a in serialize.in_order(ids)]}
