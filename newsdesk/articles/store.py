"""Writing articles: deduplicated by URL and content, updated in place, all or nothing.

Every write of an article and its URL aliases happens in one transaction, so a worker
killed at any point leaves either the old article or the new one, never half of each.

This is also the last line against hostile input, whichever path an article came by
(page, feed fallback, a future importer): every field is capped (`newsdesk.limits`)
and no date that fails `newsdesk.dates.plausible` reaches the database.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from newsdesk.articles import revisions
from newsdesk.articles.models import Article, ArticleURL
from newsdesk.dates import plausible
from newsdesk.extract import sanitize_html
from newsdesk.limits import (
    MAX_AUTHOR,
    MAX_BODY_HTML,
    MAX_BODY_TEXT,
    MAX_DESCRIPTION,
    MAX_LANGUAGE,
    MAX_SECTIONS,
    MAX_TAG,
    MAX_TITLE,
    MAX_URL,
)

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
    origin: str = Article.Origin.PAGE  # type: ignore[assignment]  # a str member; mypy sees TextChoices' tuple
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


def bounded(data: ArticleData, now: datetime | None = None) -> ArticleData:
    """`data` with every field within its limit and only plausible dates.

    Over-long text is cut; a URL that does not fit its column is dropped rather than
    cut (half a URL points elsewhere); cut HTML is sanitized again so that its tags
    are balanced and it cannot swallow the page it is shown in.
    """
    now = now or timezone.now()
    aliases = {a for a in data.aliases if len(a) <= MAX_URL}
    url = data.url if len(data.url) <= MAX_URL else min(aliases, key=len, default=data.url)
    return replace(
        data,
        url=url,
        aliases=aliases,
        title=data.title[:MAX_TITLE],
        byline=data.byline[:MAX_AUTHOR],
        description=data.description[:MAX_DESCRIPTION],
        body_text=data.body_text[:MAX_BODY_TEXT],
        body_html=_cut_html(data.body_html, data.body_text, url),
        language=data.language[:MAX_LANGUAGE],
        lead_image=data.lead_image if len(data.lead_image) <= MAX_URL else "",
        publisher_sections=[s[:MAX_TAG] for s in data.publisher_sections[:MAX_SECTIONS]],
        published_at=_published(data.published_at, now),
        modified_at=plausible(data.modified_at, now),
    )


def _cut_html(body_html: str, body_text: str, base_url: str) -> str:
    if len(body_html) <= MAX_BODY_HTML:
        return body_html
    # Balancing adds a closing tag per open element; leave room for deep nesting.
    balanced = sanitize_html(body_html[: MAX_BODY_HTML - 50_000], base_url)
    if len(balanced) <= MAX_BODY_HTML:
        return balanced
    # Pathological nesting: the text alone, escaped (at most 6 characters per character).
    paragraphs = body_text[: MAX_BODY_HTML // 8].split("\n\n")
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p.strip())


def _published(when: datetime | None, now: datetime) -> datetime | None:
    """Publishers' clocks and time zones are often wrong: no article is from the future.

    A date within the clock skew `plausible` allows is taken as now.
    """
    when = plausible(when, now)
    return min(when, now) if when else None


def _save(data: ArticleData) -> tuple[Article, str]:
    now = timezone.now()
    data = bounded(data, now)
    urls = {data.url, *data.aliases}
    digest = content_hash(data.title, data.body_text)
    published = data.published_at

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
    ArticleURL.objects.bulk_create([ArticleURL(url=url, article=article) for url in sorted(urls - known)])
    return article, outcome


def _find_existing(urls: set[str], source_id: int, digest: str) -> Article | None:
    alias = ArticleURL.objects.filter(url__in=urls).select_related("article").first()
    if alias is not None:
        return alias.article
    # In id order, which the index on (source, content_hash) gives as it is; the default
    # order (newest first) made SQLite walk the publisher's articles by date (models.py).
    return Article.objects.filter(source_id=source_id, content_hash=digest).order_by("pk").first()


def _update(article: Article, data: ArticleData, digest: str, published: datetime | None, now: datetime) -> str:
    if article.origin == Article.Origin.PAGE and data.origin == Article.Origin.FEED:
        return "unchanged"  # never replace the publisher's page with a feed excerpt
    changed = [name for name in _CONTENT_FIELDS if getattr(article, name) != getattr(data, name)]
    if not changed and article.content_hash == digest:
        return "unchanged"
    # The replaced text is kept first, in this same transaction (save_article's). A feed's
    # excerpt replaced by the page's text is not the publisher's change: no revision.
    if article.origin == data.origin:
        revisions.record(
            article, {name: getattr(data, name) for name in revisions.TRACKED}, now=now, stated_at=data.modified_at
        )
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
