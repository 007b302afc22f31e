from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "newsdesk.sources"
    verbose_name = "Sources and feeds"

    def ready(self) -> None:
        """Register the built-in source kinds through the same door as an add-on's kinds
        (`kinds.register` in its own AppConfig.ready): feeds, sitemaps, then pages."""
        from newsdesk.sources import kinds

        for name in ("FEED", "SITEMAP", "HTML"):
            kinds.register(f"newsdesk.sources.kinds.{name}")
