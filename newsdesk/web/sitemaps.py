"""Sitemaps for search engines: every article, source and hashtag, and a news sitemap
(the Google News format) of the last two days' articles."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.sitemaps import Sitemap
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from newsdesk.articles.models import Article, Hashtag
from newsdesk.sources.models import Source


class ArticleSitemap(Sitemap):
    changefreq = "daily"
    limit = 10_000

    def items(self):
        return Article.objects.order_by("-published_at").only("pk", "updated_at")

    def lastmod(self, item: Article) -> datetime:
        return item.updated_at


class SourceSitemap(Sitemap):
    changefreq = "hourly"

    def items(self):
        return Source.objects.order_by("slug").only("slug")

    def location(self, item: Source) -> str:
        return reverse("source", args=[item.slug])


class HashtagSitemap(Sitemap):
    changefreq = "hourly"

    def items(self):
        return Hashtag.objects.filter(article_count__gt=0).order_by("slug").only("slug")

    def location(self, item: Hashtag) -> str:
        return reverse("hashtag", args=[item.slug])


SITEMAPS = {"articles": ArticleSitemap, "sources": SourceSitemap, "hashtags": HashtagSitemap}


def news_sitemap(request):
    since = timezone.now() - timedelta(days=2)
    articles = (
        Article.objects.filter(published_at__gte=since)
        .select_related("source")
        .only("pk", "title", "language", "published_at", "source__name")
        .order_by("-published_at")[:1000]
    )
    return render(request, "newsdesk/news-sitemap.xml", {"articles": articles}, content_type="application/xml")


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /search/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
        f"Sitemap: {request.build_absolute_uri(reverse('news-sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
