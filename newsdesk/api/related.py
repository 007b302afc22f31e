"""Related articles for the API: the stories app's answer when it has one.

`newsdesk.stories.related_db.related_for(article, limit)` (the vector index) is used
whenever that module exists. Until then -- and only then -- `_fallback` answers: the
other articles of the same story, then recent articles sharing the most hashtags.
FALLBACK: remove `_fallback` once related_db has landed everywhere.
"""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag

RELATED_MODULE = "newsdesk.stories.related_db"
# Same-hashtag candidates are looked for among this recent coverage only.
RECENT = timedelta(days=30)


def related(article: Article, limit: int) -> tuple[str, list[int]]:
    """("related_db" or "fallback", ids of related articles, best first)."""
    try:
        module = importlib.import_module(RELATED_MODULE)
    except ModuleNotFoundError as error:
        if error.name != RELATED_MODULE:  # the module exists but something it needs does not
            raise
        return "fallback", _fallback(article, limit)
    return "related_db", _ids(module.related_for(article, limit), exclude=article.pk)[:limit]


def _ids(results, *, exclude: int) -> list[int]:
    """Article ids from whatever related_for returns: articles, ids, (article or id,
    score) pairs, or objects with an `article`/`article_id` attribute."""
    ids: list[int] = []
    for item in results or []:
        if isinstance(item, tuple | list) and item:
            item = item[0]
        if isinstance(item, Article):
            pk = item.pk
        elif isinstance(item, int) and not isinstance(item, bool):
            pk = item
        elif getattr(item, "article_id", None) is not None:
            pk = item.article_id
        elif isinstance(getattr(item, "article", None), Article):
            pk = item.article.pk
        else:
            continue
        if pk != exclude and pk not in ids:
            ids.append(pk)
    return ids


def _fallback(article: Article, limit: int) -> list[int]:
    """FALLBACK (see the module docstring): same story, then shared hashtags."""
    ids: list[int] = []
    try:
        from newsdesk.stories.models import StoryMember
    except ImportError:  # pragma: no cover - the stories app always has it now
        StoryMember = None
    if StoryMember is not None:
        story_id = (
            StoryMember.objects.filter(article=article).values_list("story_id", flat=True).first()
        )
        if story_id is not None:
            ids += list(
                StoryMember.objects.filter(story_id=story_id)
                .exclude(article_id=article.pk)
                .order_by("-article__published_at", "-article_id")
                .values_list("article_id", flat=True)[:limit]
            )
    if len(ids) < limit:
        tags = list(
            ArticleHashtag.objects.filter(article=article).values_list("hashtag_id", flat=True)
        )
        if tags:
            shared = (
                ArticleHashtag.objects.filter(
                    hashtag_id__in=tags, published_at__gte=timezone.now() - RECENT
                )
                .exclude(article_id__in=[article.pk, *ids])
                .values("article_id")
                .annotate(shared=Count("hashtag_id"), published=Max("published_at"))
                .order_by("-shared", "-published", "-article_id")
            )
            ids += [row["article_id"] for row in shared[: limit - len(ids)]]
    return ids
