"""Model rows -> the plain dicts the response schemas validate.

Lists fetch their rows with `articles()` (source, enrichment and hashtags in three
queries whatever the page size; the embedding and the body are never loaded for lists).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.sources.models import Feed, Source
from newsdesk.stories import copies

if TYPE_CHECKING:
    from newsdesk.stories.models import Story


def articles(*, with_body: bool = False) -> QuerySet[Article]:
    tags = ArticleHashtag.objects.select_related("hashtag").order_by("position")
    queryset = (
        Article.objects.select_related("source", "enrichment")
        .prefetch_related(Prefetch("article_hashtags", queryset=tags))
        .defer("enrichment__embedding")
    )
    if not with_body:
        queryset = queryset.defer("body_html", "body_text")
    return queryset


def in_order(ids: Iterable[int]) -> list[Article]:
    """The articles with these ids, in this order (missing ones left out), each knowing
    the other publishers of its text (`also_published_by`, see newsdesk/stories/copies.py)."""
    ids = list(ids)
    found = articles().in_bulk(ids)
    return copies.also_published_by(found[pk] for pk in ids if pk in found)


def enrichment_of(article: Article) -> Enrichment | None:
    try:
        return article.enrichment
    except ObjectDoesNotExist:
        return None


def site_url(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def article_item(request: HttpRequest, article: Article) -> dict:
    enrichment = enrichment_of(article)
    return {
        "id": article.pk,
        "title": article.title,
        "url": article.url,
        "site_url": site_url(request, article.get_absolute_url()),
        "source": {"slug": article.source.slug, "name": article.source.name},
        "byline": article.byline,
        "description": article.description,
        "language": article.language,
        "lead_image": article.lead_image,
        "published_at": article.published_at,
        "modified_at": article.modified_at,
        "word_count": article.word_count,
        "reading_time": article.reading_time,
        "section": (enrichment.section or None) if enrichment else None,
        "hashtags": [
            {"slug": link.hashtag.slug, "name": link.hashtag.name, "kind": link.hashtag.kind}
            for link in article.article_hashtags.all()
        ],
        "also_published_by": [{"slug": source.slug, "name": source.name} for source in _also_published_by(article)],
    }


def _also_published_by(article: Article) -> list[Source]:
    """What `in_order` attached; looked up for an article fetched on its own."""
    if not hasattr(article, "also_published_by"):
        copies.also_published_by([article])
    return article.also_published_by


def _ints(values: object) -> list[int]:
    if not isinstance(values, list | tuple):
        return []
    return [int(v) for v in values if isinstance(v, int) and not isinstance(v, bool)]


def key_points(stored: object) -> list[dict]:
    """Key points as stored ([{"text", "sentences"}]), tolerating older shapes."""
    points = []
    for point in stored if isinstance(stored, list) else []:
        if isinstance(point, dict):
            points.append({"text": str(point.get("text", "")), "sentences": _ints(point.get("sentences"))})
        elif isinstance(point, str):
            points.append({"text": point, "sentences": []})
    return points


def enrichment_out(enrichment: Enrichment | None) -> dict | None:
    if enrichment is None:
        return None
    methods = enrichment.methods if isinstance(enrichment.methods, dict) else {}
    return {
        "summary": enrichment.summary,
        "summary_sentences": _ints(enrichment.summary_sentences),
        "key_points": key_points(enrichment.key_points),
        "llm_summary": enrichment.llm_summary,
        "section": enrichment.section,
        "section_confidence": enrichment.section_confidence,
        "methods": {str(k): str(v) for k, v in methods.items()},
        "enriched_at": enrichment.enriched_at,
    }


def story_url(request: HttpRequest, story: Story) -> str | None:
    try:
        return site_url(request, story.get_absolute_url())
    except NoReverseMatch:  # the story pages are not mounted (yet)
        return None


def story_item(request: HttpRequest, story: Story) -> dict:
    return {
        "id": story.pk,
        "title": story.title,
        "site_url": story_url(request, story),
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "article_count": story.article_count,
        "publisher_count": story.publisher_count,
        "country_count": story.country_count,
        "hashtags": [str(slug) for slug in story.hashtags] if isinstance(story.hashtags, list) else [],
        "representative_id": story.representative_id,
    }


def story_summary(stored: object) -> list[dict]:
    sentences = []
    for item in stored if isinstance(stored, list) else []:
        if isinstance(item, dict):
            article = item.get("article")
            sentences.append(
                {
                    "text": str(item.get("text", "")),
                    "article": article if isinstance(article, int) and not isinstance(article, bool) else None,
                }
            )
    return sentences


def feed_out(feed: Feed, source_slug: str | None = None) -> dict:
    return {
        "id": feed.pk,
        "source": source_slug or feed.source.slug,
        "url": feed.url,
        "title": feed.title,
        "kind": feed.kind,
        "enabled": feed.enabled,
        "created_at": feed.created_at,
        "healthy": feed.healthy,
        "last_fetched_at": feed.last_fetched_at,
        "last_success_at": feed.last_success_at,
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "error_count": feed.error_count,
        "interval_seconds": feed.interval_seconds,
        "next_fetch_at": feed.next_fetch_at,
    }


def source_out(request: HttpRequest, source: Source, feed_count: int | None = None) -> dict:
    if feed_count is None:
        feed_count = getattr(source, "feed_count", None)
        if feed_count is None:
            feed_count = source.feeds.count()
    return {
        "slug": source.slug,
        "name": source.name,
        "home_url": source.home_url,
        "site_url": site_url(request, reverse("source", args=[source.slug])),
        "country": source.country,
        "language": source.language,
        "kind": source.kind,
        "created_at": source.created_at,
        "feed_count": feed_count,
    }


def hashtag_url(request: HttpRequest, slug: str) -> str | None:
    try:
        return site_url(request, reverse("hashtag", args=[slug]))
    except NoReverseMatch:  # a slug the page URLs cannot spell
        return None


def hashtag_out(request: HttpRequest, tag: Hashtag) -> dict:
    return {
        "slug": tag.slug,
        "name": tag.name,
        "kind": tag.kind,
        "article_count": tag.article_count,
        "site_url": hashtag_url(request, tag.slug),
    }
