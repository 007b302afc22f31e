"""The stories and related predictors of `newsdesk bench predict` on a small stream of
headlines written for the test, in the corpus's format but without the label columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench import SHARED
from bench.stories import predict_related, predict_stories
from tests.subprocess_json import shared_score

DAY_MS = 86_400_000
HEADLINES = [
    ("Strong earthquake strikes northern Japan, tsunami warning issued", "Paper A", 0),
    ("Dutch voters head to the polls in a tight general election", "Paper B", 0),
    ("Japan earthquake: magnitude 7.1 quake hits north-east coast", "Paper C", 0),
    ("Netherlands election: exit poll shows a close race", "Paper D", 0),
    ("Tsunami warning lifted after powerful quake rattles northern Japan", "Paper B", 1),
    ("Dutch election result: coalition talks expected to take months", "Paper A", 1),
    ("Apple unveils new iPhone with a faster chip and better camera", "Paper C", 1),
]


def test_streamed_headlines_group_by_event_and_related_lists_put_the_story_first(tmp_path):
    path = tmp_path / "headlines.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ID", "TITLE", "URL", "PUBLISHER", "HOSTNAME", "TIMESTAMP"])  # no STORY, CATEGORY
        for n, (title, publisher, day) in enumerate(HEADLINES):
            writer.writerow(
                [
                    f"id{n}",
                    title,
                    f"https://example.org/{n}",
                    publisher,
                    "example.org",
                    1_395_000_000_000 + day * DAY_MS,
                ]
            )
    predict_stories(path, tmp_path / "stories.json")
    labels = json.loads((tmp_path / "stories.json").read_text())
    assert set(labels) == {f"id{n}" for n in range(len(HEADLINES))}
    quake, election = {labels[i] for i in ("id0", "id2", "id4")}, {labels[i] for i in ("id1", "id3", "id5")}
    assert len(quake) == 1 and len(election) == 1 and quake != election
    assert labels["id6"] not in quake | election

    predict_related(path, tmp_path / "related.json")
    related = json.loads((tmp_path / "related.json").read_text())
    assert set(related["id0"][:2]) == {"id2", "id4"} and "id0" not in related["id0"]
    assert set(related["id3"][:2]) == {"id1", "id5"}


def test_the_benchmarks_find_the_corpora_beside_the_checkout():
    """Their defaults name ../shared beside the checkout, wherever they are run from (a
    path counted from the wrong folder once sent them to /shared)."""
    from bench import BBC_ARTICLES, SHARED

    repo = Path(__file__).resolve().parents[1]
    assert SHARED == repo.parent / "shared"
    if SHARED.is_dir():
        assert BBC_ARTICLES.is_dir() and any(BBC_ARTICLES.glob("*/*.txt"))


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "corpora" / "extraction").is_dir(), reason="needs ../shared")
def test_stories_pages_runs_the_production_path_on_every_page(tmp_path):
    """Every page gets a story label from the real pipeline (extraction, storage, enrichment,
    placement) and the shared scorer reads the file; pages of one event meet, and stories
    are events (the 0.979 of the README, with a little room)."""
    from bench.stories_pages import pages, predict_stories_pages

    corpus = SHARED / "corpora" / "extraction"
    out = tmp_path / "stories-pages.json"
    summary = predict_stories_pages(corpus, out)
    labels = json.loads(out.read_text())
    assert set(labels) == {key for key, _, _ in pages(corpus)} and summary["stored"] == len(labels)
    figures = shared_score("stories-pages", corpus, out)
    assert figures["n"] == len(labels)
    assert figures["bcubed_recall"] > 0.9  # every page alone would be 0.85
    assert figures["bcubed_precision"] > 0.96 and figures["false_merges"] <= 3, figures
