from django.apps import AppConfig


class ReaderConfig(AppConfig):
    name = "newsdesk.reader"
    default_auto_field = "django.db.models.BigAutoField"
