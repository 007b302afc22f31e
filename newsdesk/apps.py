from django.apps import AppConfig


class NewsdeskConfig(AppConfig):
    """The project package is an app too, so that its management commands load."""

    name = "newsdesk"
