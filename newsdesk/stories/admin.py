from django.contrib import admin, messages

from newsdesk.stories import moderation
from newsdesk.stories.models import NearDuplicate, Story, StoryEvent, StoryMember


class StoryMemberInline(admin.TabularInline):
    model = StoryMember
    fields = ("article", "similarity", "joined_at", "locked")
    readonly_fields = ("article", "similarity", "joined_at")
    extra = 0
    can_delete = False


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ("title", "article_count", "publisher_count", "country_count", "last_seen", "merged_into")
    list_filter = ("merged_into",)
    search_fields = ("title",)
    readonly_fields = (
        "representative",
        "first_seen",
        "last_seen",
        "article_count",
        "publisher_count",
        "country_count",
        "hashtags",
        "summary",
        "merged_into",
        "created_at",
        "updated_at",
    )
    inlines = [StoryMemberInline]
    actions = ["merge_selected"]

    @admin.action(description="Merge the selected stories into the newest one")
    def merge_selected(self, request, queryset):
        stories = list(queryset.filter(merged_into__isnull=True).order_by("-last_seen"))
        if len(stories) < 2:
            self.message_user(request, "Select at least two stories that are not merged yet.", messages.WARNING)
            return
        for other in stories[1:]:
            moderation.merge(stories[0], other, by=request.user)
        self.message_user(request, f"Merged {len(stories) - 1} stories into “{stories[0].title}”.")


@admin.register(StoryEvent)
class StoryEventAdmin(admin.ModelAdmin):
    list_display = ("kind", "story", "other", "at", "by", "undone")
    list_filter = ("kind", "undone")
    actions = ["undo_selected"]

    @admin.action(description="Undo the selected steps")
    def undo_selected(self, request, queryset):
        for event in queryset.filter(undone=False).exclude(kind=StoryEvent.Kind.UNDO):
            try:
                moderation.undo(event, by=request.user)
            except moderation.ModerationError as error:
                self.message_user(request, f"{event}: {error}", messages.ERROR)


@admin.register(NearDuplicate)
class NearDuplicateAdmin(admin.ModelAdmin):
    list_display = ("article", "original", "similarity", "found_at")
    raw_id_fields = ("article", "original")
