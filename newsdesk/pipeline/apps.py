from django.apps import AppConfig


class PipelineConfig(AppConfig):
    """The ingest: polling, storing pages and the stage chain after them. No models of its
    own; its migrations move queued task rows when a task's module moves."""

    name = "newsdesk.pipeline"
    verbose_name = "Ingest pipeline"

    def ready(self) -> None:
        from newsdesk.pipeline import chain, enrichers

        # By dotted path: imported when first needed, not while Django is set up.
        chain.register("newsdesk.pipeline.tasks.ENRICH")
        # The AI stage's own features, registered as an add-on's would be.
        for name in ("EMBEDDING", "HASHTAGS", "SUMMARY", "SECTIONS", "LANGUAGE"):
            enrichers.register(f"newsdesk.pipeline.enrich.{name}")
