"""Readers' suggestions in the admin, to look up; they are decided on the desk (/desk/),
where approving runs the add flow."""

from __future__ import annotations

from django.contrib import admin

from newsdesk.desk.models import Suggestion


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["url", "user", "status", "created_at", "decided_by", "decided_at", "source"]
    list_filter = ["status"]
    search_fields = ["url", "note", "user__username"]
    raw_id_fields = ["user", "decided_by", "source"]
    readonly_fields = ["created_at", "decided_at"]
