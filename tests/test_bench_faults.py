"""`newsdesk bench faults`: its accounting on a small real SQLite database, the kill plan,
the roles of `newsdesk up`'s children, and the JSON shape.

No end-to-end run here: `newsdesk up` with two workers needs 50-70 s on the 2-core
machine before the first article is stored (models loading), so even a tiny campaign
takes minutes; the benchmark itself is that run (`newsdesk bench faults --articles 300
--kills 6 --database sqlite`)."""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import faults

BASE = "http://127.0.0.1:4242"

SCHEMA = f"""
CREATE TABLE articles_article (id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL, origin TEXT NOT NULL);
CREATE TABLE articles_articleurl (id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles_article(id));
CREATE TABLE articles_enrichment (article_id INTEGER PRIMARY KEY REFERENCES articles_article(id));
CREATE TABLE stories_storymember (id INTEGER PRIMARY KEY, article_id INTEGER UNIQUE NOT NULL
    REFERENCES articles_article(id));
CREATE TABLE sources_feed (id INTEGER PRIMARY KEY, last_fetched_at TEXT);
CREATE TABLE sources_entry (id INTEGER PRIMARY KEY, state TEXT NOT NULL, article_id INTEGER);
CREATE TABLE {faults.TASKS_TABLE} (id TEXT PRIMARY KEY, status TEXT NOT NULL, task_path TEXT NOT NULL,
    args_kwargs TEXT NOT NULL, worker_ids TEXT NOT NULL);
"""


def test_tables_and_columns_are_the_models():
    """The accounting reads raw SQL; these are the tables and columns it names."""
    from django_tasks_db.models import DBTaskResult

    from newsdesk.articles.models import Article, ArticleURL, Enrichment
    from newsdesk.sources.models import Entry, Feed
    from newsdesk.stories.models import StoryMember

    expected = {
        "articles_article": (Article, {"id", "url", "origin"}),
        "articles_articleurl": (ArticleURL, {"url", "article_id"}),
        "articles_enrichment": (Enrichment, {"article_id"}),
        "stories_storymember": (StoryMember, {"article_id"}),
        "sources_feed": (Feed, {"id", "last_fetched_at"}),
        "sources_entry": (Entry, {"id", "state", "article_id"}),
        faults.TASKS_TABLE: (DBTaskResult, {"id", "status", "task_path", "args_kwargs", "worker_ids"}),
    }
    for table, (model, columns) in expected.items():
        assert model._meta.db_table == table
        assert columns <= {f.column for f in model._meta.fields}, table


@pytest.fixture
def db(tmp_path: Path):
    """Pages 0-5 of a publisher: 0 and 4 complete, 1 stored twice (one row under a
    tracking variant), 2 never stored, 3 neither enriched nor placed, 5 enriched only;
    plus one article of another site and a done entry of each stored page."""
    connection = sqlite3.connect(tmp_path / "faults.sqlite3")
    connection.executescript(SCHEMA)
    articles = [
        (1, f"{BASE}/articles/0", "page"),
        (2, f"{BASE}/articles/1", "page"),
        (3, f"{BASE}/articles/1?utm_source=rss", "feed"),
        (4, f"{BASE}/articles/3", "page"),
        (5, f"{BASE}/articles/4", "page"),
        (6, "http://elsewhere.example/articles/1", "page"),
        (7, f"{BASE}/articles/5", "page"),
    ]
    connection.executemany("INSERT INTO articles_article VALUES (?, ?, ?)", articles)
    connection.executemany(
        "INSERT INTO articles_articleurl (url, article_id) VALUES (?, ?)", [(url, pk) for pk, url, _ in articles]
    )
    connection.execute(
        "INSERT INTO articles_articleurl (url, article_id) VALUES (?, 5)", [f"{BASE}/articles/4?utm_source=rss"]
    )  # one article, two URLs: no duplicate
    connection.executemany("INSERT INTO articles_enrichment VALUES (?)", [(1,), (2,), (3,), (5,), (6,), (7,)])
    connection.executemany("INSERT INTO stories_storymember (article_id) VALUES (?)", [(1,), (2,), (3,), (5,), (6,)])
    connection.executemany(
        "INSERT INTO sources_entry VALUES (?, ?, ?)",
        [
            (10, "done", 1),
            (11, "done", 2),
            (12, "pending", None),
            (13, "done", 4),
            (14, "failed", None),
            (15, "done", 7),
        ],
    )
    connection.execute(
        "INSERT INTO sources_feed VALUES (1, ?)",
        [(datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S.%f")],
    )
    connection.commit()
    yield connection
    connection.close()


def test_account_finds_lost_duplicated_unenriched_and_unplaced(db):
    figures = faults.account(db, BASE, 6)
    assert figures["lost"] == 1  # page 2
    assert figures["duplicated"] == 1  # page 1 twice
    assert figures["not_enriched"] == 1  # page 3
    assert figures["not_placed"] == 2  # pages 3 and 5
    assert figures["stray"] == 1  # the other site's article
    assert figures["articles"] == 6 and figures["from_feed"] == 1
    assert figures["failed_entries"] == 1 and figures["stuck_tasks"] == 0


def test_page_number_reads_the_publishers_urls_only():
    assert faults.page_number(f"{BASE}/articles/12?utm_source=rss", BASE) == 12
    assert faults.page_number(f"{BASE}/articles/12/", BASE) == 12
    assert faults.page_number(f"{BASE}/feeds/1.xml", BASE) is None
    assert faults.page_number("http://127.0.0.1:42421/articles/12", BASE) is None


def test_snapshot_and_the_work_of_running_tasks(db):
    tasks = [
        ("a", "RUNNING", "newsdesk.pipeline.tasks.process_entries_task", [[10, 12]], ["w1"]),
        ("b", "RUNNING", "newsdesk.pipeline.tasks.enrich_articles_task", [[1, 2]], ["w2"]),
        ("c", "READY", "newsdesk.stories.tasks.place_in_stories_task", [[4, 7]], []),
        ("d", "RUNNING", "newsdesk.pipeline.tasks.fetch_feed_task", [1], ["w2"]),
    ]
    db.executemany(
        f"INSERT INTO {faults.TASKS_TABLE} VALUES (?, ?, ?, ?, ?)",
        [(i, s, p, json.dumps({"args": a, "kwargs": {}}), json.dumps(w)) for i, s, p, a, w in tasks],
    )
    db.commit()
    snap = faults.snapshot(db)
    assert (snap.entries, snap.pending, snap.articles, snap.enriched, snap.placed, snap.ready) == (6, 1, 7, 6, 5, 1)
    assert snap.worker_ids == {"w1", "w2"} and len(snap.running) == 3
    assert snap.busy and not snap.complete(6)
    since = datetime.now(UTC) - timedelta(hours=1)
    done = {task_id: faults.work_done(db, path, args, since) for task_id, path, args in snap.running}
    assert done == {"a": False, "b": True, "d": True}  # entry 12 pending; feed polled after `since`
    assert faults.work_done(db, "newsdesk.pipeline.tasks.fetch_feed_task", {"args": [1]}, datetime.now(UTC)) is False
    # Place: 4 is not enriched (nothing to place yet), 7 is enriched and not placed.
    assert faults.work_done(db, "newsdesk.stories.tasks.place_in_stories_task", {"args": [[4]]}, since)
    assert not faults.work_done(db, "newsdesk.stories.tasks.place_in_stories_task", {"args": [[4, 7]]}, since)


def test_sqlite_integrity_on_a_sound_file(tmp_path):
    path = tmp_path / "sound.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(
        SCHEMA
        + """
        CREATE VIRTUAL TABLE search_article_fts USING fts5(url, content='articles_article', content_rowid='id');
        CREATE TABLE search_article_meta (id INTEGER PRIMARY KEY);
        INSERT INTO articles_article VALUES (1, 'http://a/articles/0', 'page');
        INSERT INTO articles_articleurl (url, article_id) VALUES ('http://a/articles/0', 1);
        INSERT INTO search_article_fts(rowid, url) VALUES (1, 'http://a/articles/0');
        INSERT INTO search_article_meta VALUES (1);
        INSERT INTO sources_entry VALUES (1, 'done', 1);
    """
    )
    connection.commit()
    connection.close()
    report = faults.sqlite_integrity(path)
    assert report["ok"], report
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO sources_entry VALUES (2, 'done', NULL)")
    connection.commit()
    connection.close()
    report = faults.sqlite_integrity(path)
    assert not report["ok"] and report["done_entries_without_article"] == 1


def test_kill_plan_is_seeded_spaced_and_hits_every_role():
    plan = faults.kill_plan(30, seed=5, min_gap=4, max_gap=12)
    assert plan == faults.kill_plan(30, seed=5, min_gap=4, max_gap=12)
    assert plan != faults.kill_plan(30, seed=6, min_gap=4, max_gap=12)
    roles = [role for _, role in plan]
    assert (roles.count("web"), roles.count("scheduler"), roles.count("worker")) == (6, 6, 18)
    assert all(3.99 <= gap <= 12.01 for gap, _ in plan)


def test_role_of_tells_the_children_of_up_apart():
    python = [sys.executable, "-m"]
    assert faults.role_of([*python, "newsdesk", "worker", "--verbosity", "0"]) == "worker"
    assert faults.role_of([*python, "newsdesk", "scheduler"]) == "scheduler"
    # Worker 1 runs the scheduler as a thread under `newsdesk up`: killing it is the scheduler's kill.
    assert faults.role_of([*python, "newsdesk", "worker", "--verbosity", "0", "--scheduler"]) == "scheduler"
    assert faults.role_of([*python, "gunicorn", "newsdesk.wsgi:application", "--bind", "fd://6"]) == "web"
    assert faults.role_of(["nginx: master process /usr/sbin/nginx -c /tmp/d/nginx.conf -p /tmp/d"]) == "front"
    assert faults.role_of(["/usr/sbin/nginx", "-c", "x.conf"]) == "front"
    assert faults.role_of([*python, "newsdesk", "import-opml", "x"]) is None


def test_web_failures_count_only_the_windows_after_web_kills():
    results = [(0.5, False), (10.0, True), (10.5, False), (12.0, True), (40.0, False)]
    assert faults.web_failures(results, [10.0], window=5) == (1, 3)
    assert faults.web_failures(results, [], window=5) == (0, 0)


def _figures(**changes) -> dict:
    figures = {
        "lost": 0,
        "duplicated": 0,
        "not_enriched": 0,
        "not_placed": 0,
        "max_resume_s": 20.0,
        "web_failed_pct": 0.0,
        "kills": 30,
        "integrity_ok": True,
        "complete": True,
    }
    return {**figures, **changes}


def test_top_level_is_the_worse_database_and_serialises():
    per_db = {"sqlite": _figures(lost=2, max_resume_s=75.0), "postgres": _figures(web_failed_pct=3.5, kills=29)}
    top = faults.worst(per_db)
    assert top == {
        "lost": 2,
        "duplicated": 0,
        "not_enriched": 0,
        "not_placed": 0,
        "max_resume_s": 75.0,
        "web_failed_pct": 3.5,
        "kills": 29,
        "integrity_ok": True,
        "complete": True,
    }
    assert not faults.targets_met(top, 30)
    assert faults.targets_met(faults.worst({"sqlite": _figures()}), 30)
    line = json.loads(json.dumps({**top, **per_db}))
    for key in ("lost", "duplicated", "not_enriched", "not_placed", "max_resume_s", "web_failed_pct", "kills"):
        assert key in line and key in line["sqlite"] and key in line["postgres"]


def test_bench_faults_is_registered():
    from newsdesk.management.commands.bench import BENCHMARKS

    assert BENCHMARKS["faults"][0] == "bench.faults"


def test_next_kill_waits_for_the_previous_victim_to_be_back():
    def kill(at: float, back_s: float | None) -> faults.Kill:
        return faults.Kill(
            number=1,
            role="worker",
            pid=1,
            at=at,
            wall=datetime.now(UTC),
            progress=0,
            held=[],
            known_workers=set(),
            busy=True,
            back_s=back_s,
        )

    assert faults._due([], begin=100.0, now=104.0, gap=4.0)
    assert not faults._due([], begin=100.0, now=103.0, gap=4.0)
    assert not faults._due([kill(100.0, None)], begin=0.0, now=200.0, gap=4.0)  # still restarting
    assert not faults._due([kill(100.0, 40.0)], begin=0.0, now=143.0, gap=4.0)
    assert faults._due([kill(100.0, 40.0)], begin=0.0, now=144.0, gap=4.0)
