"""Staff's view of the emails and the fan-out: what was sent to whom for which period,
what failed and why, and batches that were given up."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from newsdesk.reader.briefings.models import Delivery, FanoutBatch, SiteBriefing


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "period", "state", "attempts", "sent_at", "error")
    list_filter = ("kind", "state")
    search_fields = ("user__username", "to", "message_id")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(FanoutBatch)
class FanoutBatchAdmin(admin.ModelAdmin):
    list_display = ("first_id", "last_id", "created_at", "done_at", "written", "attempts", "error")
    readonly_fields = [f.name for f in FanoutBatch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SiteBriefing)
class SiteBriefingAdmin(admin.ModelAdmin):
    list_display = ("day", "made_at")
    readonly_fields = ("day", "made_at", "stories")
