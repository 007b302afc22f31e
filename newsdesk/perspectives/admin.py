"""Staff edit source profiles here; every change is remembered as a staff edit, which
loading the data file again never overwrites (load.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from newsdesk.perspectives.models import FACTS, SOURCE_FIELD, SourceProfile


@admin.register(SourceProfile)
class SourceProfileAdmin(admin.ModelAdmin):
    list_display = ("source", "country", "language", "kind", "owner", "parent_company", "founded", "edited_at")
    list_filter = ("kind", "country")
    search_fields = ("source__name", "source__slug", "owner", "parent_company")
    autocomplete_fields = ("source",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ("from_data_file", "updated_at", "edited_at", "edited_by")
    fieldsets = [
        (None, {"fields": ("source",)}),
        *[(fact.replace("_", " ").capitalize(), {"fields": ((fact, SOURCE_FIELD[fact]),)}) for fact in FACTS],
        ("History", {"fields": ("from_data_file", "updated_at", "edited_at", "edited_by")}),
    ]

    @admin.display(description="Last loaded from the data file")
    def from_data_file(self, obj: SourceProfile) -> str:
        loaded = obj.loaded or {}
        shown = [f"{fact}: {loaded[fact]}" for fact in FACTS if loaded.get(fact) not in (None, "")]
        return "; ".join(shown) or "nothing (described by staff)"

    def save_model(self, request: HttpRequest, obj: SourceProfile, form: Any, change: bool) -> None:
        obj.updated_at = obj.edited_at = timezone.now()
        obj.edited_by = request.user
        super().save_model(request, obj, form, change)
