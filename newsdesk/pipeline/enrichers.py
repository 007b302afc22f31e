"""What the AI stage derives from an article: the registry of enrichers.

Each feature of the stage (embedding, hashtags, summary, section, language) is an
`Enricher` registered here, the built-ins by the pipeline app (`register` in
PipelineConfig.ready) and add-ons the same way from their own app, as the stage chain
is (`newsdesk.pipeline.chain`). So a new feature is one module that registers an
enricher (plus the migration of the field it stores); `newsdesk.pipeline.enrich` runs
whatever is registered, in order, and records each one's method version in
`Enrichment.methods`, which is how `newsdesk reprocess` finds what a new or improved
feature should redo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from newsdesk.registry import Registry

if TYPE_CHECKING:
    import numpy as np

    from newsdesk.articles.models import Article
    from newsdesk.pipeline.enrich import KnownAliases

R = TypeVar("R")


@dataclass(frozen=True)
class Context:
    """What an enricher gets besides the article. The embedding is computed for the whole
    batch before any enricher runs (the model works on many texts at once, and other
    features, the section among them, read the vector), so every enricher finds it here."""

    text: str  # the article's body text, or its description when it has none
    vector: np.ndarray  # the article's embedding (unit vector)
    known: KnownAliases  # alias key -> hashtag slug: the database's, and the batch's so far
    # The results of the enrichers before this one, by name, for this article.
    results: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Enricher(Generic[R]):
    """One feature of the AI stage.

    `analyse` runs outside any transaction (it may be slow: models, an LLM); what it
    returns is stored later by the writers, inside the write group's transaction:
    `fields` gives the Enrichment fields it sets (merged into one update_or_create),
    `store` writes anything else of one article in that article's savepoint, and
    `store_group` writes the results of a whole write group at once, after their
    savepoints, when per-article queries would cost too much (hashtags). An exception
    from any of them costs only that article's enrichment (`store_group`'s: the group's).
    """

    name: str  # unique; also its key in Enrichment.methods
    analyse: Callable[[Article, Context], R]
    # The method's version, recorded in Enrichment.methods: a change makes `reprocess`
    # redo the stored articles. None: nothing recorded, nothing redone.
    version: Callable[[], str] | None = None
    fields: Callable[[Article, R], dict[str, Any]] | None = None
    store: Callable[[Article, R], None] | None = None
    store_group: Callable[[list[tuple[Article, R]]], None] | None = None
    # Called once the article's whole analysis has succeeded, before the next article of
    # the batch is analysed: what later articles should know (hashtags: the new aliases).
    remember: Callable[[R, Context], None] | None = None
    warm_up: Callable[[], None] | None = None  # load models now rather than in the first task


_ENRICHERS: Registry[Enricher[Any]] = Registry()
register = _ENRICHERS.register
unregister = _ENRICHERS.unregister
enrichers = _ENRICHERS.entries  # in the order they run and their methods are recorded
registered = _ENRICHERS.registered
