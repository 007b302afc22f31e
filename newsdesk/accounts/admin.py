"""Blocking from the admin: on each user's page (inline) and as list actions.

Moderators who may not edit users (no auth.change_user) still reach blocks through the
Profile list, which needs only accounts.change_profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from newsdesk.accounts.models import Profile, set_blocked

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.forms import BaseInlineFormSet, ModelForm
    from django.http import HttpRequest

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    fk_name = "user"
    can_delete = False
    fields = ("is_blocked", "blocked_reason", "blocked_at", "blocked_by")
    readonly_fields = ("blocked_at", "blocked_by")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "is_blocked", "blocked_at", "blocked_by", "blocked_reason")
    list_filter = ("is_blocked",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)
    readonly_fields = ("blocked_at", "blocked_by")
    actions = ["unblock"]

    def save_model(self, request: HttpRequest, obj: Profile, form: ModelForm, change: bool) -> None:
        if obj.is_blocked and "is_blocked" in form.changed_data:
            obj.blocked_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Unblock selected users", permissions=["change"])
    def unblock(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        for profile in queryset.select_related("user"):
            set_blocked(profile.user, False)
        self.message_user(request, f"Unblocked {queryset.count()} user(s).", messages.SUCCESS)


class NewsdeskUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ProfileInline]
    list_filter = (*UserAdmin.list_filter, "newsdesk_profile__is_blocked")
    actions = ["block_users", "unblock_users"]

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        for inline_form in formset.forms:
            profile = inline_form.instance
            if isinstance(profile, Profile) and profile.is_blocked and "is_blocked" in inline_form.changed_data:
                profile.blocked_by = request.user
        super().save_formset(request, form, formset, change)

    @admin.action(description="Block selected users from commenting", permissions=["change"])
    def block_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for user in queryset:
            if user.is_superuser or user.pk == request.user.pk:
                continue
            set_blocked(user, True, by=request.user, reason="blocked from the user list")
            count += 1
        self.message_user(request, f"Blocked {count} user(s).", messages.SUCCESS)

    @admin.action(description="Unblock selected users", permissions=["change"])
    def unblock_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            set_blocked(user, False)
        self.message_user(request, f"Unblocked {queryset.count()} user(s).", messages.SUCCESS)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, NewsdeskUserAdmin)
