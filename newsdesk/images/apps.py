from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "newsdesk.images"
    verbose_name = "Lead images"

    def ready(self) -> None:
        from newsdesk.pipeline import chain

        chain.register("newsdesk.images.stage.IMAGES")  # imported when first needed
