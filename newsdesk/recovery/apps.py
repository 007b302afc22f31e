from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    """Worker heartbeats, lost-run recovery and retries of failed pipeline tasks."""

    name = "newsdesk.recovery"
    verbose_name = "Task recovery"
