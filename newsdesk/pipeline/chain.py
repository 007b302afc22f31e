"""What happens to articles after their page is stored: the stage chain.

The stages are registered by the apps that own them, built-ins and add-ons alike
(`register` in an AppConfig.ready): the pipeline registers enrichment, the stories app
registers placement. Both ways of running the ingest take the same registry in the same
order: the workers run one stage per task and queue the next (`hand_on`), and `newsdesk
fetch` runs them all in its own process (`run`). Two copies of the chain had drifted
apart before: `fetch` enriched articles but never placed them in stories.

Each stage takes article ids, may run any number of times for the same ids (a task is
retried after a failure or a dead worker), and returns what it did and the ids the
next stage should take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsdesk.registry import Registry


@dataclass(frozen=True)
class Done:
    """What one stage did: `count` of articles it wrote, and `next_ids` for the next
    stage (empty: nothing to hand on)."""

    count: int
    next_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Stage:
    """One step of the chain. `order` places it (lower runs first); `task` is the
    Tasks-framework task that runs it on a worker (its module path names it in queued
    rows, so it must stay where it is once released)."""

    name: str
    order: int
    run: Callable[[list[int]], Done]
    task: Any
    # The ids of articles that reached this stage between two times but were never taken
    # through it (a worker died after storing them): the scheduler's repair pass queues them.
    stranded: Callable[[datetime, datetime], list[int]]
    batch: int = 32


_STAGES: Registry[Stage] = Registry()


def register(stage: Stage | str) -> None:
    """Add a stage (or the dotted path of one), or replace the one of the same name."""
    if not isinstance(stage, str):
        clash = [s.name for s in _STAGES.entries() if s.order == stage.order and s.name != stage.name]
        if clash:
            raise ValueError(f"stage {stage.name!r} has the order of {clash[0]!r}")
    _STAGES.register(stage)


def unregister(name: str) -> Stage | None:
    """Remove a stage (an add-on's, in tests); returns it."""
    return _STAGES.unregister(name)


def stages() -> list[Stage]:
    """The registered stages in the order they run."""
    return sorted(_STAGES.entries(), key=lambda stage: stage.order)


def stage(name: str) -> Stage:
    return _STAGES.get(name)


def after(current: Stage) -> Stage | None:
    """The stage that takes what `current` hands on; None after the last."""
    later = [s for s in stages() if s.order > current.order]
    return later[0] if later else None


def start(article_ids: list[int]) -> None:
    """Queue the first stage for freshly stored articles."""
    chain = stages()
    if chain and article_ids:
        chain[0].task.enqueue(article_ids)


def hand_on(name: str, article_ids: list[int]) -> int:
    """What a stage's task does: run the stage here and queue the next one for what it
    hands on. Returns the stage's count."""
    current = _STAGES.get(name)
    done = current.run(article_ids)
    following = after(current)
    if following is not None and done.next_ids:
        following.task.enqueue(done.next_ids)
    return done.count


def queue_stranded(since: datetime, before: datetime) -> int:
    """Queue every stage for the articles it missed between `since` and `before`."""
    queued = 0
    for current in stages():
        ids = current.stranded(since, before)
        for begin in range(0, len(ids), current.batch):
            current.task.enqueue(ids[begin : begin + current.batch])
        queued += len(ids)
    return queued


def run(article_ids: Iterable[int]) -> dict[str, int]:
    """Run every stage in order in this process; returns each stage's count by name (0
    for a stage that was handed nothing)."""
    ids = list(article_ids)
    counts: dict[str, int] = {}
    for current in stages():
        done = current.run(ids) if ids else Done(0)
        counts[current.name] = done.count
        ids = done.next_ids
    return counts
