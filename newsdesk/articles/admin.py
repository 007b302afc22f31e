from django.contrib import admin

from newsdesk.articles.models import Article, ArticleURL


class ArticleURLInline(admin.TabularInline):
    model = ArticleURL
    extra = 0


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "published_at", "origin", "word_count")
    list_filter = ("origin", "language", "source")
    search_fields = ("title", "url")
    date_hierarchy = "published_at"
    raw_id_fields = ("source", "feed")
    inlines = [ArticleURLInline]
