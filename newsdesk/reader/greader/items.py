"""Articles as the protocol's items, with the reader's state as their categories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from newsdesk.articles.models import Article
from newsdesk.reader import state
from newsdesk.reader.content import article_html
from newsdesk.reader.greader import ids
from newsdesk.reader.models import Follow, Saved

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


def _seconds(value: Any) -> int:
    return int(value.timestamp()) if value else 0


def item_json(
    request: HttpRequest, article: Article, *, read: bool, starred: bool, label: str, followed: bool
) -> dict[str, Any]:
    usec = int(article.created_at.timestamp() * 1_000_000)
    categories = [ids.READING_LIST] if followed else []
    if label:
        categories.append(ids.label(label))
    if read:
        categories.append(ids.READ)
    if starred:
        categories.append(ids.STARRED)
    html = article_html(article)
    own = request.build_absolute_uri(article.get_absolute_url())
    return {
        "id": ids.long_id(article.pk),
        "crawlTimeMsec": str(usec // 1000),
        "timestampUsec": str(usec),
        "published": _seconds(article.published_at),
        "updated": _seconds(article.modified_at or article.published_at),
        "title": article.title,
        "author": article.byline,
        "categories": categories,
        "alternate": [{"href": article.url, "type": "text/html"}],
        "canonical": [{"href": article.url}],
        "related": [{"href": own, "type": "text/html"}],
        "summary": {"direction": "ltr", "content": html},
        "content": {"direction": "ltr", "content": html},
        "origin": {
            "streamId": ids.feed(article.source_id),
            "title": article.source.name,
            "htmlUrl": article.source.home_url,
        },
        "enclosure": [{"url": article.lead_image, "type": "image/jpeg"}] if article.lead_image else [],
    }


def items_json(request: HttpRequest, user: AbstractBaseUser, articles: Iterable[Article]) -> list[dict[str, Any]]:
    """The items of these articles, in their order, each with this reader's state."""
    rows = list(articles)
    pks = [a.pk for a in rows]
    follows = {f.source_id: f for f in Follow.objects.filter(user=user)}
    read = state.read_ids(user, pks)
    starred = set(Saved.objects.filter(user=user, article_id__in=pks).values_list("article_id", flat=True))
    return [
        item_json(
            request,
            a,
            read=a.pk in read,
            starred=a.pk in starred,
            label=follows[a.source_id].category if a.source_id in follows else "",
            followed=a.source_id in follows,
        )
        for a in rows
    ]
