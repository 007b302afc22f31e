"""`newsdesk fetch` runs the same chain of stages as the workers.

An article stored by `newsdesk fetch --once` (no task queue) is enriched, placed in a
story and added to the vector index, exactly as one that a real scheduler and worker
took through the queued tasks; before, `fetch` stopped after enrichment, and its
articles stayed out of every story and out of the "related" index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsdesk.articles.models import from_blob
from newsdesk.stories.vectors import MANIFEST, VectorIndex
from tests.fixtureserver import Reply
from tests.pages import article_page, rss
from tests.test_e2e import database, env, newsdesk, spawn, stop, wait_for  # noqa: F401 (env is a fixture)

pytestmark = pytest.mark.slow

# Two unrelated stories, so that neither joins the other's story nor folds as its copy.
FETCHED = (
    "Lighthouse keeper rescues stranded kayakers",
    [
        "Two kayakers were rescued on Sunday after strong winds pushed them onto the rocks below "
        "the old lighthouse, where the keeper saw them waving from the shore.",
        "The keeper launched a small boat and brought both of them back to the harbour within "
        "an hour; neither needed treatment at the hospital.",
        "The coastguard reminded paddlers to check the forecast and to carry a radio when they "
        "set out along the exposed northern coast.",
    ],
)
QUEUED = (
    "Orchestra announces free summer concerts in the park",
    [
        "The city orchestra will play six free concerts in the central park this summer, "
        "starting with a programme of film music on the first Saturday of July.",
        "The conductor said the series was meant to bring classical music to families who had "
        "never been to the concert hall, and picnics on the lawn are welcome.",
        "Seating is on the grass and the concerts move to the covered bandstand if it rains.",
    ],
)


def serve(server, prefix: str, title: str, paragraphs: list[str]) -> str:
    server.route(
        f"{prefix}/story", Reply(200, article_page(title, paragraphs), {"Content-Type": "text/html; charset=utf-8"})
    )
    server.route(
        f"{prefix}/feed.xml",
        Reply(
            200, rss([{"title": title, "link": server.url(f"{prefix}/story")}]), {"Content-Type": "application/rss+xml"}
        ),
    )
    return server.url(f"{prefix}/feed.xml")


def trace(db, vectors: Path, title: str) -> dict:
    """Where the article titled `title` ended up: its story and its place in the index."""
    article_id = db.execute(f"SELECT id FROM articles_article WHERE title = '{title}'").fetchone()[0]
    enrichment = db.execute(f"SELECT embedding FROM articles_enrichment WHERE article_id = {article_id}").fetchone()
    story = db.execute(
        "SELECT s.article_count, s.representative_id FROM stories_storymember m "
        f"JOIN stories_story s ON s.id = m.story_id WHERE m.article_id = {article_id}"
    ).fetchone()
    index = VectorIndex.load(vectors) if (vectors / MANIFEST).exists() else None  # none before the first add
    indexed = index is not None and article_id in index
    nearest = index.search(from_blob(bytes(enrichment[0])), k=1) if enrichment and indexed else []
    return {
        "enriched": enrichment is not None,
        "story": None if story is None else {"articles": story[0], "represented_by_it": story[1] == article_id},
        "indexed": indexed,
        # The index holds the embedding that enrichment stored: it finds the article itself.
        "finds_itself": bool(nearest) and nearest[0][0] == article_id and np.isclose(nearest[0][1], 1.0, atol=1e-3),
    }


def test_fetch_once_places_articles_in_stories_and_the_index_as_the_workers_do(fixture_server, env):
    vectors = Path(env["NEWSDESK_DATA_DIR"]) / "vectors"
    env = {**env, "NEWSDESK_VECTOR_DIR": str(vectors)}
    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    assert newsdesk(env, "add", serve(fixture_server, "/chain-fetch", *FETCHED)).returncode == 0

    fetched = newsdesk(env, "fetch", "--once")
    assert fetched.returncode == 0, fetched.stderr
    assert "articles: 1 new" in fetched.stdout, fetched.stdout + fetched.stderr
    assert "1 enriched, 1 placed in stories" in fetched.stdout, fetched.stdout
    db = database(env)
    try:
        by_fetch = trace(db, vectors, FETCHED[0])
        assert by_fetch == {
            "enriched": True,
            "story": {"articles": 1, "represented_by_it": True},
            "indexed": True,
            "finds_itself": True,
        }

        # The same for an article that a real scheduler and worker take through the tasks.
        assert newsdesk(env, "add", serve(fixture_server, "/chain-queued", *QUEUED)).returncode == 0
        scheduler = spawn(env, "scheduler", "--interval", "0.5")
        worker = spawn(env, "worker")
        try:
            placed = (
                "SELECT count(*) FROM stories_storymember m JOIN articles_article a ON a.id = m.article_id "
                f"WHERE a.title = '{QUEUED[0]}'"
            )
            wait_for(lambda: db.execute(placed).fetchone()[0] == 1, 120, "the workers to place the article")
            wait_for(lambda: trace(db, vectors, QUEUED[0])["indexed"], 30, "the workers to index the article")
        finally:
            stop(worker)
            stop(scheduler)
        assert trace(db, vectors, QUEUED[0]) == by_fetch
        assert db.execute("SELECT count(*) FROM stories_story").fetchone()[0] == 2
    finally:
        db.close()
