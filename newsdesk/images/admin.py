from django.contrib import admin
from django.http import HttpRequest

from newsdesk.images.models import ArticleImage


@admin.register(ArticleImage)
class ArticleImageAdmin(admin.ModelAdmin):
    """Read-only: what became of each lead image, and why a refused one was refused."""

    list_display = ("article_id", "state", "width", "height", "fetched_at", "error")
    list_filter = ("state",)
    search_fields = ("source_url", "error")
    raw_id_fields = ("article",)
    readonly_fields = [f.name for f in ArticleImage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
