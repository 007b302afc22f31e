"""What the pages need from stories: the article page's story and related articles, the
home page's top stories and their pictures.

The web layer calls `article_context(article)` and includes `stories/_story_box.html`
and `stories/_related.html`; everything about how they are chosen stays in this app.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connections
from django.db.models import Max
from django.utils import timezone

from newsdesk import plain_rows
from newsdesk.articles.models import Article
from newsdesk.images.models import ArticleImage
from newsdesk.images.rows import attach_images
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story, StoryMember


def article_context(article: Article) -> dict:
    """`story` (or None), `story_sources` and `related` for the article page.

    A story of one article is not shown: "full coverage" of a single source says nothing.
    """
    from newsdesk.stories.related_db import related_for

    story = _shown_story(article.pk)
    sources = _story_sources(story.pk) if story is not None else []
    related = related_for(article)
    # The article's picture and the related articles' thumbnails (newsdesk/images/), in one query.
    attach_images([article, *(item.article for item in related)])
    return {"story": story, "story_sources": sources, "related": related}


# The story box's rows, read with plain SQL (see newsdesk/plain_rows.py): building
# the two querysets cost about 0.8 ms of the article page's CPU, running them a tenth.
_STORY_FIELDS = list(Story._meta.concrete_fields)
_SOURCE_FIELDS = list(Source._meta.concrete_fields)


def _shown_story(article_id: int) -> Story | None:
    """`Story.objects.filter(members__article=article, merged_into__isnull=True,
    article_count__gte=2).first()` in one plain query (an article has one membership)."""
    connection = connections[Story.objects.db]
    quote = connection.ops.quote_name
    story, member = quote(Story._meta.db_table), quote(StoryMember._meta.db_table)
    sql = (
        f"SELECT {plain_rows.columns(connection, _STORY_FIELDS, story)} FROM {story}"
        f" INNER JOIN {member} ON ({story}.{quote('id')} = {member}.{quote('story_id')})"
        f" WHERE ({story}.{quote('article_count')} >= %s AND {member}.{quote('article_id')} = %s"
        f" AND {story}.{quote('merged_into_id')} IS NULL) ORDER BY {story}.{quote('id')} ASC LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [2, article_id])
        row = cursor.fetchone()
    return None if row is None else plain_rows.instance(connection, Story, _STORY_FIELDS, row)


def _story_sources(story_id: int) -> list[Source]:
    """`Source.objects.filter(articles__story_member__story=story).distinct()
    .order_by("name")[:12]` in one plain query: the story's first 12 publishers by name."""
    connection = connections[Source.objects.db]
    quote = connection.ops.quote_name
    source, article = quote(Source._meta.db_table), quote(Article._meta.db_table)
    member = quote(StoryMember._meta.db_table)
    sql = (
        f"SELECT DISTINCT {plain_rows.columns(connection, _SOURCE_FIELDS, source)} FROM {source}"
        f" INNER JOIN {article} ON ({source}.{quote('id')} = {article}.{quote('source_id')})"
        f" INNER JOIN {member} ON ({article}.{quote('id')} = {member}.{quote('article_id')})"
        f" WHERE {member}.{quote('story_id')} = %s ORDER BY {source}.{quote('name')} ASC LIMIT 12"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [story_id])
        rows = cursor.fetchall()
    build = plain_rows.reader(connection, Source, _SOURCE_FIELDS)
    return [build(row) for row in rows]


def top_stories(limit: int = 10, *, hours: float = 48.0) -> list[Story]:
    """Stories ranked by how many publishers cover them and how fresh they are.

    Score = distinct publishers / (1 + age in hours / 12)^1.2 over stories seen in the
    last `hours`: a story from five publishers an hour ago beats one from six yesterday.
    Only coverage by two publishers or more counts (two pages of one site are not a top
    story), unless the site has none (a site reading one publisher). When no such story
    was seen in the last `hours` (a quiet spell, or a site showing an archive), they are
    ranked as of the newest one's last article: the latest active day's top stories.
    """
    now = timezone.now()
    shown = Story.objects.filter(merged_into__isnull=True, article_count__gte=2)
    if shown.filter(publisher_count__gte=2).exists():
        shown = shown.filter(publisher_count__gte=2)
    if not shown.filter(last_seen__gte=now - timedelta(hours=hours)).exists():
        now = shown.aggregate(newest=Max("last_seen"))["newest"] or now
    recent = shown.filter(last_seen__gte=now - timedelta(hours=hours)).order_by("-publisher_count", "-last_seen")[
        : limit * 5
    ]

    def score(story: Story) -> float:
        age = max(0.0, (now - story.last_seen).total_seconds() / 3600)
        return story.publisher_count / (1 + age / 12) ** 1.2

    return sorted(recent, key=score, reverse=True)[:limit]


def story_pictures(stories: list[Story]) -> dict[int, ArticleImage]:
    """Each story's picture, by story id: its representative article's stored lead image,
    else that of its newest member with one (stories without any are left out). One
    query, and one more per story whose representative has no picture."""
    stored = ArticleImage.objects.filter(state=ArticleImage.State.STORED)
    by_article = {
        image.article_id: image
        for image in stored.filter(article_id__in=[s.representative_id for s in stories if s.representative_id])
    }
    found: dict[int, ArticleImage] = {}
    for story in stories:
        image = by_article.get(story.representative_id) if story.representative_id else None
        if image is None:
            image = stored.filter(article__story_member__story=story).order_by("-article__published_at").first()
        if image is not None:
            found[story.pk] = image
    return found
