"""`newsdesk up --small` with the shared embedding model, end to end in real processes:
the article is enriched and ask-the-article answers over HTTP; only the embedder maps
torch (web, worker with the scheduler never import it); a killed embedder is restarted
and survived; and work that fails while the embedder does not answer is retried, not lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bench.footprint import kind_of, process_tree
from newsdesk.web.front import free_port
from tests.fixtureserver import Reply
from tests.pages import LOREM, article_page, rss
from tests.test_e2e import database, newsdesk, stop, wait_for

pytestmark = pytest.mark.slow

QUESTION = "When did the council vote?"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    variables = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(tmp_path / "data"),
        "NEWSDESK_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSDESK_FETCH_HOST_DELAY": "0",
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
        "NEWSDESK_FRONT": "gunicorn",
        "NEWSDESK_ASK_PER_MINUTE": "1000",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "NEWSDESK_EMBEDDER"):
        variables.pop(name, None)
    return variables


def spawn_up(env: dict[str, str], port: int, *profile: str) -> subprocess.Popen:
    """`newsdesk up --small` (or `profile`), its output to a file (a pipe nobody reads fills up with the
    logged failures and blocks every child that logs)."""
    log = Path(env["NEWSDESK_DATA_DIR"]).parent / "up.log"
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsdesk", "up", "--bind", f"127.0.0.1:{port}", *(profile or ("--small",))],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def serve_article(fixture_server, prefix: str) -> str:
    fixture_server.route(
        f"{prefix}/story",
        Reply(
            200, article_page("Council approves transport plan", LOREM), {"Content-Type": "text/html; charset=utf-8"}
        ),
    )
    fixture_server.route(
        f"{prefix}/feed.xml",
        Reply(
            200,
            rss([{"title": "Council approves transport plan", "link": fixture_server.url(f"{prefix}/story")}]),
            {"Content-Type": "application/rss+xml"},
        ),
    )
    return fixture_server.url(f"{prefix}/feed.xml")


def kinds(up_pid: int) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for pid in process_tree(up_pid):
        found.setdefault(kind_of(pid, up_pid), []).append(pid)
    return found


def maps_torch(pid: int) -> bool:
    """Whether the process has torch's library mapped: imported torch, in any thread."""
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def ask(port: int, article_id: int, question: str = QUESTION) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{port}/articles/{article_id}/ask?question={quote(question)}",
        headers={"HX-Request": "true"},
        timeout=120,
    )


def enriched(env: dict[str, str]) -> int:
    db = database(env)
    try:
        return db.execute("SELECT count(*) FROM articles_enrichment").fetchone()[0]
    finally:
        db.close()


def article_id(env: dict[str, str]) -> int:
    db = database(env)
    try:
        return db.execute("SELECT id FROM articles_article").fetchone()[0]
    finally:
        db.close()


def test_small_profile_shares_the_model_and_survives_a_killed_embedder(fixture_server, env):
    feed = serve_article(fixture_server, "/up-small")
    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    assert newsdesk(env, "add", feed).returncode == 0
    port = free_port()
    up = spawn_up(env, port)
    try:
        wait_for(lambda: enriched(env) == 1, 180, "the article to be enriched")
        found = kinds(up.pid)
        # The one worker runs the scheduler too (a thread: a process of its own is 125 MB).
        assert len(found["embedder"]) == 1 and len(found["worker"]) == 1 and "scheduler" not in found
        assert "--scheduler" in Path(f"/proc/{found['worker'][0]}/cmdline").read_bytes().decode().split("\0")
        assert len(found["web"]) == 2  # the gunicorn master and its one worker (with threads)
        answer = ask(port, article_id(env))
        assert answer.status_code == 200 and "Tuesday" in answer.text, answer.text
        # Only the embedder holds torch; the web worker has just answered a question.
        assert maps_torch(found["embedder"][0])
        for kind in ("web", "worker", "supervisor"):
            for pid in found[kind]:
                assert not maps_torch(pid), f"{kind} process {pid} imported torch"

        (embedder,) = found["embedder"]
        os.kill(embedder, signal.SIGKILL)
        # Asked at once: the question waits in the socket's backlog for the successor.
        again = ask(port, article_id(env), "What did the mayor promise?")
        assert again.status_code == 200 and "review of the budget" in again.text, again.text
        successor = wait_for(
            lambda: [p for p in kinds(up.pid).get("embedder", []) if p != embedder], 60, "a new embedder"
        )
        assert len(successor) == 1
        assert up.poll() is None
    finally:
        stop(up)
    assert not (Path(env["NEWSDESK_DATA_DIR"]) / "embedder.sock").exists()


def test_default_set_web_and_scheduler_never_import_torch(fixture_server, env):
    """The default composition (the scheduler a thread of worker 1, the supervisor on the
    standard library alone), two web processes: after enriching and answering a question,
    the embedder alone has torch mapped."""
    feed = serve_article(fixture_server, "/up-default")
    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    assert newsdesk(env, "add", feed).returncode == 0
    port = free_port()
    up = spawn_up(env, port, "--workers", "1", "--web-workers", "2")
    try:
        wait_for(lambda: enriched(env) == 1, 180, "the article to be enriched")
        for question in (QUESTION, "What did the mayor promise?"):  # likely one per web process
            answer = ask(port, article_id(env), question)
            assert answer.status_code == 200 and "The article says" in answer.text, answer.text
        found = kinds(up.pid)
        assert "scheduler" not in found and len(found["worker"]) == 1
        assert b"--scheduler" in Path(f"/proc/{found['worker'][0]}/cmdline").read_bytes().split(b"\0")
        assert len(found["web"]) == 3 and len(found["embedder"]) == 1
        assert b"newsdesk.supervisor" in Path(f"/proc/{up.pid}/cmdline").read_bytes()  # exec'd, same pid
        assert maps_torch(found["embedder"][0])
        for kind in ("web", "worker", "supervisor"):
            for pid in found[kind]:
                assert not maps_torch(pid), f"{kind} process {pid} imported torch"
    finally:
        stop(up)


def test_work_failed_for_want_of_the_embedder_is_retried_not_lost(fixture_server, env):
    """The embedder stops answering (SIGSTOP): the enrichment task fails after
    NEWSDESK_EMBEDDER_WAIT, a reader's question says so (503), and once the embedder
    answers again the retried task enriches the article."""
    env = {**env, "NEWSDESK_EMBEDDER_WAIT": "3", "NEWSDESK_TASK_RETRY_DELAY": "1"}
    feed = serve_article(fixture_server, "/up-stopped")
    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    port = free_port()
    up = spawn_up(env, port)
    embedder = None
    try:
        wait_for(lambda: http_ok(port), 120, "the site to answer")
        (embedder,) = wait_for(lambda: kinds(up.pid).get("embedder"), 60, "the embedder")
        socket_path = Path(env["NEWSDESK_DATA_DIR"]) / "embedder.sock"
        wait_for(lambda: serving(socket_path), 120, "the embedder to load its model")
        (worker,) = kinds(up.pid)["worker"]
        os.kill(embedder, signal.SIGSTOP)
        assert newsdesk(env, "add", feed).returncode == 0
        db = database(env)
        failures = "SELECT count(*) FROM recovery_taskfailure WHERE error LIKE '%EmbedderUnavailable%'"
        wait_for(lambda: db.execute(failures).fetchone()[0] >= 1, 120, "the enrichment to fail and be retried")
        assert enriched(env) == 0
        answer = ask(port, article_id(env))
        assert answer.status_code == 200 and "not available right now" in answer.text  # htmx: in place
        page = httpx.get(f"http://127.0.0.1:{port}/articles/{article_id(env)}/ask?question=why", timeout=60)
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"

        os.kill(embedder, signal.SIGCONT)
        embedder = None
        wait_for(lambda: enriched(env) == 1, 180, "the retried enrichment")
        assert kinds(up.pid)["worker"] == [worker]  # the worker lived through it
        db.close()
    finally:
        if embedder is not None:
            os.kill(embedder, signal.SIGCONT)
        stop(up)


def http_ok(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/robots.txt", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def serving(path: Path) -> bool:
    from newsdesk.ai import embeddings

    try:
        embeddings.remote_embed(str(path), ["ready?"], wait=0.5)
        return True
    except embeddings.EmbedderUnavailable:
        return False
    finally:
        embeddings._close_connection()
