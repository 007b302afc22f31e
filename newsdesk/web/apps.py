from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "newsdesk.web"
    verbose_name = "Web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from newsdesk.web import pagecache

        pagecache.connect()
