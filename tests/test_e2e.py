"""End to end through the real `newsdesk` command, in subprocesses, on a fresh data dir.

These run exactly what a user runs: `newsdesk add`, `newsdesk fetch --once`,
`newsdesk up` (gunicorn, workers, scheduler), and kill a worker in the middle of a task.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from newsdesk.web.front import free_port
from tests.fixtureserver import Reply
from tests.pages import LOREM, article_page, rss

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path, process_database) -> dict[str, str]:
    variables = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(tmp_path / "data"),
        "NEWSDESK_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSDESK_FETCH_HOST_DELAY": "0",
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
    }
    variables.pop("DJANGO_SETTINGS_MODULE", None)
    # SQLite in the data dir, or a fresh database of its own on the PostgreSQL run.
    return process_database.environ(variables)


def newsdesk(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsdesk", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "newsdesk", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def database(env: dict[str, str]):
    """A connection to the subprocesses' database; `execute(sql).fetchone()` works on both."""
    if url := env.get("DATABASE_URL"):
        import psycopg

        return psycopg.connect(url, autocommit=True)
    return sqlite3.connect(Path(env["NEWSDESK_DATA_DIR"]) / "newsdesk.sqlite3", timeout=30)


def http_get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_add_fetch_and_read_through_newsdesk_up(fixture_server, env):
    prefix = "/e2e-read"
    fixture_server.route(
        f"{prefix}/story",
        Reply(200, article_page("Ferry service restored", LOREM), {"Content-Type": "text/html; charset=utf-8"}),
    )
    fixture_server.route(
        f"{prefix}/feed.xml",
        Reply(
            200,
            rss([{"title": "Ferry service restored", "link": fixture_server.url(f"{prefix}/story?utm_source=rss")}]),
            {"Content-Type": "application/rss+xml"},
        ),
    )

    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    added = newsdesk(env, "add", fixture_server.url(f"{prefix}/feed.xml"))
    assert added.returncode == 0, added.stderr
    assert "subscribed to" in added.stdout
    fetched = newsdesk(env, "fetch", "--once")
    assert fetched.returncode == 0, fetched.stderr
    assert "1 new" in fetched.stdout, fetched.stdout
    assert "articles: 1 new" in fetched.stdout, fetched.stdout + fetched.stderr

    port = free_port()
    up = spawn(env, "up", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--web-workers", "1")
    try:
        home = wait_for(lambda: http_get(f"http://127.0.0.1:{port}/"), 60, "the site to answer")
        assert home.status_code == 200
        assert "Ferry service restored" in home.text and "Test Gazette" in home.text
        assert "default-src 'self'" in home.headers["content-security-policy"]
        link = home.text.split('class="headline"><a href="')[1].split('"')[0]
        page = httpx.get(f"http://127.0.0.1:{port}{link}", timeout=10)
        assert page.status_code == 200
        assert LOREM[0] in page.text and "Jane Reporter" in page.text
        assert f'href="{fixture_server.url(prefix + "/story")}"' in page.text
        assert "minutes ago" in page.text
        css = httpx.get(f"http://127.0.0.1:{port}/static/newsdesk/site.css", timeout=10)
        assert css.status_code == 200 and "prefers-color-scheme" in css.text
    finally:
        stop(up)
    assert up.returncode is not None


def test_killed_worker_loses_nothing_and_the_page_is_retried(fixture_server, env):
    prefix = "/e2e-kill"
    env = {**env, "NEWSDESK_TASK_LEASE": "8", "NEWSDESK_FETCH_TIMEOUT": "60"}
    first_request = threading.Event()

    def slow_then_fine(request):
        if not first_request.is_set():
            first_request.set()
            return Reply(200, article_page("Slow page", LOREM), {"Content-Type": "text/html; charset=utf-8"}, delay=30)
        return Reply(200, article_page("Slow page", LOREM), {"Content-Type": "text/html; charset=utf-8"})

    fixture_server.route(f"{prefix}/slow", slow_then_fine)
    fixture_server.route(
        f"{prefix}/feed.xml",
        Reply(
            200,
            rss([{"title": "Slow page", "link": fixture_server.url(f"{prefix}/slow")}]),
            {"Content-Type": "application/rss+xml"},
        ),
    )
    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    assert newsdesk(env, "add", fixture_server.url(f"{prefix}/feed.xml")).returncode == 0

    scheduler = spawn(env, "scheduler", "--interval", "0.5")
    worker = spawn(env, "worker")
    try:
        assert first_request.wait(60), "the worker never asked for the page"
        worker.send_signal(signal.SIGKILL)  # killed in the middle of the page task
        worker.wait()
        db = database(env)
        assert db.execute("SELECT count(*) FROM articles_article").fetchone()[0] == 0
        state = db.execute("SELECT state FROM sources_entry").fetchone()[0]
        assert state == "pending"

        worker = spawn(env, "worker")
        wait_for(
            lambda: db.execute("SELECT count(*) FROM articles_article").fetchone()[0] == 1,
            90,
            "the page to be retried after its lease ran out",
        )
        title, body = db.execute("SELECT title, body_text FROM articles_article").fetchone()
        assert title == "Slow page" and LOREM[3] in body
        assert db.execute("SELECT state FROM sources_entry").fetchone()[0] == "done"
        db.close()
    finally:
        stop(worker)
        stop(scheduler)


def test_offline_site_starts_and_shows_feed_errors(env):
    env = {**env, "NEWSDESK_DEFAULT_SOURCES": "1", "NEWSDESK_FETCH_ALLOW_HOSTS": ""}
    port = free_port()
    up = spawn(env, "up", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--web-workers", "1")
    try:
        page = wait_for(
            lambda: (r := http_get(f"http://127.0.0.1:{port}/sources/")) and "failing" in r.text and r,
            120,
            "feeds to report their errors",
        )
        assert page.status_code == 200
        assert "BBC News" in page.text and "Deutsche Welle" in page.text
        assert page.text.count("failing (") >= 1
        assert http_get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        stop(up)
