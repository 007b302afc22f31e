from django.apps import AppConfig


class PipelineConfig(AppConfig):
    """The ingest: polling, storing pages and the stage chain after them. No models of its
    own; its migrations move queued task rows when a task's module moves."""

    name = "newsdesk.pipeline"
    verbose_name = "Ingest pipeline"

    def ready(self) -> None:
        from newsdesk.pipeline import chain, enrichers
        from newsdesk.pipeline.enrich import BUILT_IN
        from newsdesk.pipeline.tasks import ENRICH

        chain.register(ENRICH)
        # The AI stage's own features, registered as an add-on's would be.
        for enricher in BUILT_IN:
            enrichers.register(enricher)
