"""Writing articles: deduplicated by URL and content, updated in place, all or nothing.

Every write of an article and its URL aliases happens in one transaction, so a worker
killed at any point leaves either the old article or the new one, never half of each.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleURL

_SPACE = re.compile(r"\s+")
# Fields copied from ArticleData onto the model; the rest are keys or bookkeeping.
_CONTENT_FIELDS = (
    "title",
    "byline",
    "description",
    "body_text",
    "body_html",
    "language",
    "lead_image",
    "word_count",
    "reading_time",
    "origin",
    "publisher_sections",
    "modified_at",
)


@dataclass
class ArticleData:
    url: str
    source_id: int
    title: str
    feed_id: int | None = None
    aliases: set[str] = field(default_factory=set)
    byline: str = ""
    description: str = ""
    body_text: str = ""
    body_html: str = ""
    language: str = ""
    lead_image: str = ""
    word_count: int = 0
    reading_time: int = 0
    origin: str = Article.Origin.PAGE
    publisher_sections: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None


def content_hash(title: str, body: str) -> str:
    """Same headline and same text, ignoring case and spacing, is the same article."""
    normalized = _SPACE.sub(" ", f"{title}\n{body}").strip().lower()
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest()


def save_article(data: ArticleData) -> tuple[Article, str]:
    """Store `data`, returning the article and "created", "updated" or "unchanged"."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _save(data)
        except IntegrityError:
            # Another worker stored the same URL between our lookup and our insert;
            # the next attempt finds its row and updates it instead.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _save(data: ArticleData) -> tuple[Article, str]:
    now = timezone.now()
    urls = {data.url, *data.aliases}
    digest = content_hash(data.title, data.body_text)
    published = _plausible(data.published_at, now)

    article = _find_existing(urls, data.source_id, digest)
    if article is None:
        article = Article(
            url=data.url,
            source_id=data.source_id,
            feed_id=data.feed_id,
            content_hash=digest,
            published_at=published or now,
            created_at=now,
            updated_at=now,
            **{name: getattr(data, name) for name in _CONTENT_FIELDS},
        )
        article.save()
        outcome = "created"
    else:
        outcome = _update(article, data, digest, published, now)

    known = set(ArticleURL.objects.filter(url__in=urls).values_list("url", flat=True))
    ArticleURL.objects.bulk_create(
        [ArticleURL(url=url, article=article) for url in sorted(urls - known)]
    )
    return article, outcome


def _find_existing(urls: set[str], source_id: int, digest: str) -> Article | None:
    alias = ArticleURL.objects.filter(url__in=urls).select_related("article").first()
    if alias is not None:
        return alias.article
    return Article.objects.filter(source_id=source_id, content_hash=digest).first()


def _update(article: Article, data: ArticleData, digest: str, published, now) -> str:
    if article.origin == Article.Origin.PAGE and data.origin == Article.Origin.FEED:
        return "unchanged"  # never replace the publisher's page with a feed excerpt
    changed = [name for name in _CONTENT_FIELDS if getattr(article, name) != getattr(data, name)]
    if not changed and article.content_hash == digest:
        return "unchanged"
    for name in changed:
        setattr(article, name, getattr(data, name))
    article.content_hash = digest
    if published:
        article.published_at = published
    if article.url != data.url and not Article.objects.filter(url=data.url).exists():
        article.url = data.url  # the publisher's canonical URL wins once it is known
    article.updated_at = now
    article.save()
    return "updated"


def _plausible(when: datetime | None, now: datetime) -> datetime | None:
    """Publishers' clocks and time zones are often wrong: no article is from the future."""
    if when is None:
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.utc)
    return min(when, now)
