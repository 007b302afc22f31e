from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "newsdesk.stories"
    verbose_name = "Stories and related articles"
