from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "newsdesk.web"
    verbose_name = "Web"
