"""The stage chain is a registry: the apps register their stages, built-ins and add-ons
alike, and both ways of running the ingest (`chain.run` in `newsdesk fetch`, one task per
stage on the workers) take them in the same order."""

from __future__ import annotations

import pytest

from newsdesk.images.stage import fetch_images_task
from newsdesk.pipeline import chain
from newsdesk.pipeline.tasks import enrich_articles_task
from newsdesk.stories.tasks import place_in_stories_task


class Recorder:
    """An add-on stage's task and function: records what it was handed."""

    def __init__(self) -> None:
        self.ran: list[list[int]] = []
        self.queued: list[list[int]] = []

    def run(self, article_ids: list[int]) -> chain.Done:
        self.ran.append(list(article_ids))
        return chain.Done(len(article_ids))

    def enqueue(self, article_ids: list[int]) -> None:
        self.queued.append(list(article_ids))


@pytest.fixture
def addon():
    recorder = Recorder()
    stage = chain.Stage("addon", order=30, run=recorder.run, task=recorder, stranded=lambda since, before: [])
    chain.register(stage)
    yield recorder
    chain.unregister("addon")


def test_the_built_in_stages_are_enrichment_placement_then_images():
    stages = chain.stages()
    assert [s.name for s in stages] == ["enrich", "place", "images"]
    assert [s.task for s in stages] == [enrich_articles_task, place_in_stories_task, fetch_images_task]
    assert chain.after(stages[0]) is stages[1] and chain.after(stages[1]) is stages[2]
    assert chain.after(stages[2]) is None


def test_a_stage_cannot_take_the_place_of_another():
    with pytest.raises(ValueError, match="order"):
        chain.register(chain.Stage("clash", order=10, run=lambda ids: chain.Done(0), task=None, stranded=list))
    assert "clash" not in [s.name for s in chain.stages()]


@pytest.mark.django_db
def test_an_add_on_stage_gets_what_placement_placed(addon, monkeypatch):
    """Run in process (`newsdesk fetch`) and through the tasks (the workers): the add-on
    registered after placement receives the placed ids either way."""
    placed = {11: 1, 12: 1}
    monkeypatch.setattr("newsdesk.stories.assign.place_articles", lambda ids: placed)
    monkeypatch.setattr("newsdesk.stories.index.add_articles", lambda ids: None)
    monkeypatch.setattr("newsdesk.pipeline.tasks.enrich_articles", lambda ids: len(ids))

    counts = chain.run([11, 12, 13])
    # The images stage comes after the add-on, which hands nothing on.
    assert counts == {"enrich": 3, "place": 2, "addon": 2, "images": 0}
    assert addon.ran == [[11, 12]]

    assert chain.hand_on("place", [11, 12, 13]) == 2
    assert addon.queued == [[11, 12]]


@pytest.mark.django_db
def test_the_repair_pass_asks_every_stage_for_what_it_missed():
    from datetime import UTC, datetime

    recorder = Recorder()
    stage = chain.Stage("addon", 30, recorder.run, recorder, stranded=lambda since, before: [7, 8, 9], batch=2)
    chain.register(stage)
    try:
        # Nothing stored: the built-ins miss nothing; the add-on's ids go in its batches.
        assert chain.queue_stranded(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)) == 3
    finally:
        chain.unregister("addon")
    assert recorder.queued == [[7, 8], [9]]


def test_setting_django_up_imports_no_stage(tmp_path):
    """The apps register their stages, enrichers and source kinds by dotted path, so a web
    process or a command does not import the pipeline (trafilatura, httpx, the models of
    the AI stage) just to start: it took django.setup() from 0.35 s to 0.9 s."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); "
        "print(sorted(m for m in ('trafilatura', 'httpx', 'PIL', 'newsdesk.pipeline.tasks', 'newsdesk.stories.tasks', "
        "'newsdesk.images.stage') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "newsdesk.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    # ... and the registries still hold the built-ins once they are read.
    assert [s.name for s in chain.stages()] == ["enrich", "place", "images"]
