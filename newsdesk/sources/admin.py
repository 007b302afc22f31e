from django.contrib import admin

from newsdesk.sources.models import Entry, Feed, Source


class FeedInline(admin.TabularInline):
    model = Feed
    fields = ("url", "enabled", "kind", "last_success_at", "error_count", "last_error", "next_fetch_at")
    readonly_fields = ("kind", "last_success_at", "error_count", "last_error", "next_fetch_at")
    extra = 0


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "language", "kind", "home_url")
    list_filter = ("kind", "country", "language")
    search_fields = ("name", "home_url")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FeedInline]


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("url", "source", "kind", "enabled", "last_success_at", "error_count", "next_fetch_at")
    list_filter = ("enabled", "kind")
    search_fields = ("url", "title", "source__name")
    readonly_fields = (
        "etag",
        "last_modified",
        "last_fetched_at",
        "last_success_at",
        "last_status",
        "last_error",
        "error_count",
        "fetch_count",
        "entries_total",
        "last_new_entry_at",
        "locked_until",
    )


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("url", "source", "state", "attempts", "next_attempt_at", "discovered_at")
    list_filter = ("state",)
    search_fields = ("url", "title")
    raw_id_fields = ("article", "feed", "source")
