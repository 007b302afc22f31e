from django.apps import AppConfig


class BriefingsConfig(AppConfig):
    name = "newsdesk.reader.briefings"
    label = "briefings"
    verbose_name = "Briefings and alerts"
    default_auto_field = "django.db.models.BigAutoField"
