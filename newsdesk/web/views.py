"""Reader pages. Views only read the database: fetching and AI work happen in tasks."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from newsdesk.ai.sections import SECTIONS
from newsdesk.articles.ask import answer_question
from newsdesk.articles.models import Article, Hashtag
from newsdesk.sources.models import Feed, Source

PAGE_SIZE = 30


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.select_related("source").defer("body_html", "body_text")
    return render(request, "newsdesk/home.html", {"page": _page(request, articles)})


def article(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Article.objects.select_related("source", "enrichment"), pk=pk)
    return render(request, "newsdesk/article.html", _article_context(item))


def _article_context(item: Article, **extra) -> dict:
    enrichment = getattr(item, "enrichment", None)
    tags = item.article_hashtags.select_related("hashtag").order_by("position")
    return {"article": item, "enrichment": enrichment, "tags": [t.hashtag for t in tags], **extra}


@require_POST
def ask_article(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer a reader's question from the article's own sentences."""
    item = get_object_or_404(Article.objects.select_related("source", "enrichment"), pk=pk)
    question = " ".join(request.POST.get("question", "").split())[:300]
    answer = answer_question(item, question) if question else None
    context = _article_context(item, question=question, answer=answer)
    if request.headers.get("HX-Request"):
        return render(request, "newsdesk/_answer.html", context)
    return render(request, "newsdesk/article.html", context)


def hashtag(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Hashtag, slug=slug)
    articles = (
        Article.objects.filter(article_hashtags__hashtag=tag)
        .select_related("source")
        .defer("body_html", "body_text")
    )
    return render(request, "newsdesk/hashtag.html", {"hashtag": tag, "page": _page(request, articles)})


def sources(request: HttpRequest) -> HttpResponse:
    listing = Source.objects.annotate(
        article_count=Count("articles", distinct=True),
        failing=Count("feeds", filter=Q(feeds__error_count__gt=0), distinct=True),
    ).prefetch_related("feeds")
    return render(request, "newsdesk/sources.html", {"sources": listing})


def source(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(Source, slug=slug)
    articles = item.articles.select_related("source").defer("body_html", "body_text")
    feeds = Feed.objects.filter(source=item)
    return render(
        request, "newsdesk/source.html", {"source": item, "feeds": feeds, "page": _page(request, articles)}
    )


def section(request: HttpRequest, section: str) -> HttpResponse:
    if section not in SECTIONS:
        raise Http404("no such section")
    articles = (
        Article.objects.filter(enrichment__section=section)
        .select_related("source")
        .defer("body_html", "body_text")
    )
    return render(request, "newsdesk/section.html", {"section": section, "page": _page(request, articles)})
