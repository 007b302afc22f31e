from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from newsdesk.recovery.models import TaskFailure, WorkerHeartbeat


@admin.register(TaskFailure)
class TaskFailureAdmin(admin.ModelAdmin):
    """Failed pipeline task runs; filter on "Given up" for work that needs a person."""

    list_display = ("failed_at", "task_name", "attempt", "outcome", "worker_lost", "error", "run", "retry_at")
    list_filter = ("outcome", "worker_lost", "task_path")
    search_fields = ("error", "task_path")
    date_hierarchy = "failed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TaskFailure | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: TaskFailure | None = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="task run")
    def run(self, obj: TaskFailure) -> str:
        url = reverse("admin:django_tasks_database_dbtaskresult_change", args=[obj.result_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.result_id)[:8])


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "host", "pid", "started_at", "beat_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkerHeartbeat | None = None) -> bool:
        return False
