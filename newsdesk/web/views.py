"""Reader pages. Views only read the database: fetching and AI work happen in tasks
(ask-the-article is the one exception: it ranks one article's sentences per question).

The article and home pages are cached for anonymous readers (see pagecache.py); every
page here is also usable without JavaScript.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from newsdesk import plain_rows
from newsdesk.accounts import ratelimit
from newsdesk.ai.ask import Answer
from newsdesk.ai.embeddings import EmbedderUnavailable
from newsdesk.ai.sections import SECTIONS
from newsdesk.articles import rows as article_rows
from newsdesk.articles.ask import answer_question
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.articles.trending import trending_hashtags
from newsdesk.recovery.status import task_health
from newsdesk.sources.models import Feed, Source
from newsdesk.stories import copies
from newsdesk.web import pagecache, revisions
from newsdesk.web.body import render_body, sentence_id

PAGE_SIZE = 30
TOP_STORIES = 8
STORY_SOURCES_SHOWN = 6
MAX_QUESTION = 300


def _page(request: HttpRequest, queryset: QuerySet, *, every_original: bool = False) -> Page:
    """A page of a listing, each article text once (see newsdesk/stories/copies.py), the
    entries knowing who else published them. `every_original`: the listing holds every
    original (the latest articles), so copies are simply left out."""
    listing = copies.originals_only(queryset) if every_original else copies.fold(queryset)
    page = Paginator(listing, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = copies.also_published_by(page.object_list)
    return page


def _listing():
    # "image": the lead image's row (newsdesk/images/), read in the same query for the thumbnails.
    return Article.objects.select_related("source", "image").defer("body_html", "body_text")


# --- home ---------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    return pagecache.page(
        request, pagecache.HOME, lambda: pagecache.render_html(request, "newsdesk/home.html", _home_context(request))
    )


def _home_context(request: HttpRequest) -> dict:
    page = _page(request, _listing(), every_original=True)
    context: dict = {"page": page, "top_stories": [], "trending": [], "trending_until": None}
    if page.number == 1:
        context["top_stories"] = _top_stories()
        trending = trending_hashtags(10)  # as /api/trending/hashtags counts them
        context["trending"] = trending.trends
        context["trending_until"] = trending.until if trending.moved else None  # the latest active day
    return context


def _top_stories() -> list[dict]:
    from newsdesk.stories.models import StoryMember
    from newsdesk.stories.pages import story_pictures, top_stories

    stories = list(top_stories(TOP_STORIES))
    pictures = story_pictures(stories)
    pairs = StoryMember.objects.filter(story__in=stories).values_list("story_id", "article__source_id").distinct()
    by_story: dict[int, set[int]] = defaultdict(set)
    for story_id, source_id in pairs:
        by_story[story_id].add(source_id)
    known = Source.objects.in_bulk({pk for ids in by_story.values() for pk in ids})
    sources = {story_id: {pk: known[pk] for pk in ids if pk in known} for story_id, ids in by_story.items()}
    rows = []
    for story in stories:
        found = sorted(sources.get(story.pk, {}).values(), key=lambda s: s.name.lower())
        rows.append(
            {
                "story": story,
                "sources": found[:STORY_SOURCES_SHOWN],
                "more_sources": max(0, len(found) - STORY_SOURCES_SHOWN),
                "image": pictures.get(story.pk),
            }
        )
    return rows


# --- article ------------------------------------------------------------------------------


# The article page's hashtags, read with plain SQL (see plain_rows.py): the queryset
# they replace cost more to build than to run.
_HASHTAG_FIELDS = list(Hashtag._meta.concrete_fields)


def _article(pk: int) -> Article:
    """`get_object_or_404(Article.objects.select_related("source", "enrichment"), pk=pk)`
    in one plain query (newsdesk/articles/rows.py)."""
    item = article_rows.with_publisher([pk]).get(pk)
    if item is None:
        raise Http404(f"No {Article._meta.object_name} matches the given query.")
    return item


def _hashtags(item: Article) -> list[Hashtag]:
    """The article's hashtags in its order: `item.article_hashtags.select_related(
    "hashtag").order_by("position")`'s hashtags, in one plain query."""
    connection = connections[Article.objects.db]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {plain_rows.columns(connection, _HASHTAG_FIELDS, 'h')}"
        f" FROM {quote(ArticleHashtag._meta.db_table)} l"
        f" INNER JOIN {quote(Hashtag._meta.db_table)} h ON l.hashtag_id = h.id"
        f" WHERE l.article_id = %s ORDER BY l.position ASC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [item.pk])
        rows = cursor.fetchall()
    build = plain_rows.reader(connection, Hashtag, _HASHTAG_FIELDS)
    return [build(row) for row in rows]


def article(request: HttpRequest, pk: int) -> HttpResponse:
    def build() -> str:
        item = _article(pk)
        return pagecache.render_html(request, "newsdesk/article.html", _article_context(request, item))

    return pagecache.page(request, pagecache.article_scope(pk), build)


def _article_context(request: HttpRequest, item: Article, **extra: object) -> dict:
    from newsdesk.stories.pages import article_context as story_context

    enrichment = getattr(item, "enrichment", None)
    tags = _hashtags(item)
    body = render_body(item.body_text, item.body_html)
    count = len(body.sentences)
    key_points = []
    stale = revisions.outdated(item, enrichment)
    if enrichment:
        for point in enrichment.key_points or []:
            if stale and " ".join(str(point.get("text", "")).split()) not in " ".join(item.body_text.split()):
                continue  # made from a text the publisher has since changed
            sentences = [i for i in point.get("sentences", []) if isinstance(i, int) and 0 <= i < count and not stale]
            key_points.append(
                {
                    "text": point.get("text", ""),
                    "sentences": sentences,
                    "anchor": sentence_id(sentences[0]) if sentences else "",
                    "data": " ".join(str(i) for i in sentences),
                }
            )
    context = {
        "article": item,
        "enrichment": enrichment,
        "summary": revisions.summary_now(item, enrichment),
        "key_points": key_points,
        "tags": tags,
        "body": body,
        "sentence_count": count,
        "structured_data": _structured_data(item, enrichment, tags),
        "description": _description(item, enrichment),
        **story_context(item),
        **revisions.context(item),
        **extra,
    }
    return context


def _description(item: Article, enrichment: Enrichment | None) -> str:
    text = (enrichment.summary if enrichment and enrichment.summary else "") or item.description
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297].rsplit(" ", 1)[0] + "…"


def _structured_data(item: Article, enrichment: Enrichment | None, tags: list[Hashtag]) -> dict:
    """schema.org NewsArticle: the publisher's article, credited to the publisher."""
    source = item.source
    publisher = {"@type": "Organization", "name": source.name, "url": source.home_url}
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title if len(item.title) <= 110 else item.title[:109] + "…",
        "url": item.url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": item.url},
        "datePublished": item.published_at.isoformat(),
        "dateModified": (item.modified_at or item.updated_at or item.published_at).isoformat(),
        "author": ({"@type": "Person", "name": item.byline} if item.byline else publisher),
        "publisher": publisher,
    }
    if description := _description(item, enrichment):
        data["description"] = description
    if item.lead_image:
        data["image"] = [item.lead_image]
    if item.language:
        data["inLanguage"] = item.language
    if enrichment and enrichment.section:
        data["articleSection"] = enrichment.section.capitalize()
    if tags:
        data["keywords"] = [tag.name for tag in tags]
    if item.word_count:
        data["wordCount"] = item.word_count
    return data


def ask_rule() -> ratelimit.Rule:
    return ratelimit.Rule("ask-ip", settings.NEWSDESK_ASK_PER_MINUTE, 60)


@require_safe
def ask_article(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer a reader's question from the article's own sentences: the answer alone for
    htmx (swapped in place), the whole article page with the answer for a plain form.

    A read-only query, so a GET (`?question=...`): the article page needs no CSRF token
    and stays cacheable. Rate-limited per client address."""
    item = _article(pk)
    question = " ".join(request.GET.get("question", "").split())[:MAX_QUESTION]
    answer, status, wait, retry = None, 200, 0, 0
    if question:
        rule, ident = ask_rule(), ratelimit.client_ip(request)
        if ratelimit.hit(rule, ident) > rule.limit:
            wait = ratelimit.retry_after(rule, ident) or rule.window
            status = 429
        else:
            try:
                answer = answer_question(item, question)
            except EmbedderUnavailable:  # the shared model is restarting: say so, not a 500
                answer = Answer(False, "Ask-the-article is not available right now. Please try again in a minute.")
                status, retry = 503, 30
    context = {"question": question, "answer": answer, "asked": True, "wait": ratelimit.wait_text(wait) if wait else ""}
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: the "try again later" text must show in place.
        response = render(request, "newsdesk/_answer.html", {"article": item, **context})
    else:
        page_context = _article_context(request, item, **context)
        html = pagecache.render_html(request, "newsdesk/article.html", page_context)
        response = pagecache.respond(request, html, state="bypass", status=status)
    if wait or retry:
        response["Retry-After"] = str(wait or retry)
    patch_cache_control(response, private=True)
    response["X-Robots-Tag"] = "noindex"
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- listings -----------------------------------------------------------------------------


def hashtag(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Hashtag, slug=slug)
    articles = _listing().filter(article_hashtags__hashtag=tag)
    return render(request, "newsdesk/hashtag.html", {"hashtag": tag, "page": _page(request, articles)})


def sources(request: HttpRequest) -> HttpResponse:
    """Publishers and their feeds' health; staff also see the task queue's health
    (failed pipeline tasks waiting for a retry or given up), so no failure goes unseen."""
    listing = Source.objects.annotate(
        article_count=Count("articles", distinct=True),
        failing=Count("feeds", filter=Q(feeds__error_count__gt=0), distinct=True),
    ).prefetch_related("feeds")
    context = {"sources": listing}
    if request.user.is_staff:
        context["tasks"] = task_health()
    return render(request, "newsdesk/sources.html", context)


def source(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(Source, slug=slug)
    articles = _listing().filter(source=item)
    feeds = Feed.objects.filter(source=item)
    return render(request, "newsdesk/source.html", {"source": item, "feeds": feeds, "page": _page(request, articles)})


def section(request: HttpRequest, section: str) -> HttpResponse:
    if section not in SECTIONS:
        raise Http404("no such section")
    articles = _listing().filter(enrichment__section=section)
    return render(request, "newsdesk/section.html", {"section": section, "page": _page(request, articles)})
