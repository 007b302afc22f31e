"""Moderation in the Django admin: filter by status and open reports, act in bulk.

The actions call the same functions as the page buttons and need the
comments.moderate_comment permission (the "moderators" group has it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.text import Truncator

from newsdesk.comments import moderation
from newsdesk.comments.models import Comment, Report
from newsdesk.comments.signals import notify

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import QuerySet
    from django.forms import ModelForm
    from django.http import HttpRequest


class ReportedFilter(admin.SimpleListFilter):
    title = "reported"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("open", "Open reports"), ("any", "Ever reported"), ("no", "Never reported")]

    def queryset(self, request, queryset):
        reports = Report.objects.filter(comment=OuterRef("pk"))
        if self.value() == "open":
            return queryset.filter(Exists(reports.filter(resolved=False)))
        if self.value() == "any":
            return queryset.filter(Exists(reports))
        if self.value() == "no":
            return queryset.exclude(Exists(reports))
        return queryset


class HiddenFilter(admin.SimpleListFilter):
    """Everything readers cannot see, apart from what its own author deleted."""

    title = "hidden from readers"
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return [("yes", "Hidden, held or removed"), ("no", "Visible")]

    def queryset(self, request, queryset):
        invisible = [Comment.Status.HIDDEN, Comment.Status.PENDING, Comment.Status.REMOVED]
        if self.value() == "yes":
            return queryset.filter(status__in=invisible)
        if self.value() == "no":
            return queryset.filter(status=Comment.Status.PUBLISHED)
        return queryset


class ReportInline(admin.TabularInline):
    model = Report
    extra = 0
    can_delete = False
    fields = ("reporter", "reason", "details", "created_at", "resolved")
    readonly_fields = ("reporter", "reason", "details", "created_at")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "excerpt", "author", "article", "status", "open_reports", "created_at")
    list_filter = ("status", HiddenFilter, ReportedFilter, "created_at")
    search_fields = ("body", "author__username", "article__title")
    list_select_related = ("author", "article")
    raw_id_fields = ("article", "author", "parent", "moderated_by")
    readonly_fields = ("created_at", "edited_at", "moderated_at", "moderated_by", "held_reason")
    date_hierarchy = "created_at"
    inlines = [ReportInline]
    actions = ["hide", "unhide", "remove", "block_author"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_open_reports=Count("reports", filter=Q(reports__resolved=False)))

    @admin.display(description="comment")
    def excerpt(self, obj: Comment) -> str:
        return Truncator(obj.body or f"[{obj.get_status_display().lower()}]").chars(80)

    @admin.display(description="open reports", ordering="_open_reports")
    def open_reports(self, obj: Comment) -> int:
        return obj._open_reports

    def save_model(self, request: HttpRequest, obj: Comment, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        notify(obj.article_id)

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        super().delete_model(request, obj)
        notify(obj.article_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        article_ids = set(queryset.values_list("article_id", flat=True))
        super().delete_queryset(request, queryset)
        for article_id in article_ids:
            notify(article_id)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return moderation.can_moderate(request.user)

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Comment],
        action: Callable[[Comment, AbstractBaseUser], bool],
        verb: str,
    ) -> None:
        done = sum(action(comment, request.user) for comment in queryset.select_related("author"))
        self.message_user(request, f"{verb} {done} of {queryset.count()} selected comment(s).", messages.SUCCESS)

    @admin.action(description="Hide selected comments (reversible)", permissions=["moderate"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, moderation.hide, "Hid")

    @admin.action(description="Unhide / approve selected comments", permissions=["moderate"])
    def unhide(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, moderation.unhide, "Published")

    @admin.action(description="Remove selected comments (erases the text)", permissions=["moderate"])
    def remove(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, moderation.remove, "Removed")

    @admin.action(description="Block the authors of selected comments", permissions=["moderate"])
    def block_author(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        authors = {}
        for comment in queryset.select_related("author"):
            if comment.author_id and comment.author_id not in authors:
                authors[comment.author_id] = moderation.block_author(comment, request.user)
        self.message_user(
            request,
            f"Blocked {sum(authors.values())} author(s); moderators and administrators are never blocked.",
            messages.SUCCESS,
        )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("comment", "reason", "reporter", "created_at", "resolved")
    list_filter = ("resolved", "reason")
    search_fields = ("details", "reporter__username", "comment__body")
    raw_id_fields = ("comment", "reporter")
    list_select_related = ("comment", "reporter")
