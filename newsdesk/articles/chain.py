"""What happens to articles after their page is stored: enrich, then place in stories.

The stages and their order are defined once, here (`STAGES`), for both ways of running
the ingest: the workers run one stage per task and queue the next one (`tasks.py`), and
`newsdesk fetch` runs them all in its own process (`run`). Two copies of the chain had
drifted apart before: `fetch` enriched articles but never placed them in stories.

Each stage takes article ids, may run any number of times for the same ids (a task is
retried after a failure or a dead worker), and returns what it did and the ids the
next stage should take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from newsdesk.articles.enrich import enrich_articles
from newsdesk.stories import assign, index


@dataclass(frozen=True)
class Done:
    """What one stage did: `count` of articles it wrote, and `next_ids` for the next
    stage (empty: nothing to hand on)."""

    count: int
    next_ids: list[int] = field(default_factory=list)


Stage = Callable[[list[int]], Done]


def enrich(article_ids: list[int]) -> Done:
    """Embedding, hashtags, summary and section; placement needs the embedding.

    Hands on the whole batch when anything was written (as the workers always did):
    placement skips the articles that are unenriched or already placed, and indexes
    every vector it is given, so a redone enrichment reaches the index too.
    """
    written = enrich_articles(article_ids)
    return Done(written, list(article_ids) if written else [])


def place(article_ids: list[int]) -> Done:
    """Fold copies, join or start stories, and index the vectors for related articles.

    The last stage: `count` is how many articles were placed in a story.
    """
    placed = assign.place_articles(article_ids)
    index.add_articles(article_ids)
    return Done(len(placed))


# The order of the chain, written once.
STAGES: tuple[Stage, ...] = (enrich, place)


def after(stage: Stage) -> Stage | None:
    """The stage that takes what `stage` hands on; None after the last."""
    position = STAGES.index(stage)
    return STAGES[position + 1] if position + 1 < len(STAGES) else None


def run(article_ids: Iterable[int]) -> dict[Stage, int]:
    """Run every stage in order in this process; returns each stage's count (0 for a
    stage that was handed nothing)."""
    ids = list(article_ids)
    counts: dict[Stage, int] = {}
    for stage in STAGES:
        done = stage(ids) if ids else Done(0)
        counts[stage] = done.count
        ids = done.next_ids
    return counts
