from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from newsdesk.articles.models import Article, ArticleRevision, ArticleURL


class ArticleURLInline(admin.TabularInline):
    model = ArticleURL
    extra = 0


class ArticleRevisionInline(admin.TabularInline):
    """The versions the publisher replaced, read-only: they are the record of what it said."""

    model = ArticleRevision
    extra = 0
    can_delete = False
    fields = ("revised_at", "stated_at", "is_correction", "note_kind", "note", "updates")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "published_at", "origin", "word_count")
    list_filter = ("origin", "language", "source")
    search_fields = ("title", "url")
    date_hierarchy = "published_at"
    raw_id_fields = ("source", "feed")
    inlines = [ArticleURLInline, ArticleRevisionInline]
