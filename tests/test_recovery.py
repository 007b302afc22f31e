"""Failures are recorded, backed off and retried; dead workers' tasks come back quickly.

- A feed poll that raises anything (here the parser raising OverflowError or
  RuntimeError, against the real fixture server) is recorded on the feed, backs off and
  shows on /sources/; one page that raises does not cost its batch.
- A failed pipeline task is queued again after 30 s, 2 min, 8 min, 32 min, then given up
  and shown to staff (never to anonymous readers) on /sources/ and in the admin.
- A real `newsdesk worker` killed with SIGKILL in the middle of a page fetch: the
  scheduler sees its heartbeat stop, closes its task row as failed ("worker lost") and
  queues the batch again, which a second worker completes, well inside the 600 s lease.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.articles.models import Article
from newsdesk.pipeline import ingest, tasks
from newsdesk.pipeline.add import add_url
from newsdesk.recovery.models import TaskFailure, WorkerHeartbeat
from newsdesk.recovery.sweep import WORKER_LOST, close_lost_runs, recover
from newsdesk.sources import kinds
from newsdesk.sources.models import Entry, Feed, Source
from newsdesk.stories import tasks as story_tasks
from tests.fixtureserver import Reply
from tests.pages import LOREM, article_page, rss
from tests.task_support import run_row
from tests.test_e2e import database, env, newsdesk, spawn, stop, wait_for  # noqa: F401 (env is a fixture)

_ids = itertools.count()


@pytest.fixture
def prefix() -> str:
    return f"/recovery{next(_ids)}"


def niceness(pid: int) -> int:
    """A process's nice value, the 19th field of /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def serve_site(server, prefix: str, titles: list[str], *, page_delay: float = 0.0) -> str:
    items = []
    for n, title in enumerate(titles):
        path = f"{prefix}/news/{n}"
        server.route(
            path,
            Reply(
                200,
                article_page(title, [f"{title}: {p}" for p in LOREM]),
                {"Content-Type": "text/html; charset=utf-8"},
                delay=page_delay,
            ),
        )
        items.append({"title": title, "link": server.url(path), "description": f"{title} in brief."})
    server.route(f"{prefix}/feed.xml", Reply(200, rss(items), {"Content-Type": "application/rss+xml"}))
    return server.url(f"{prefix}/feed.xml")


# --- Defect 2: any exception in a poll or a page ------------------------------------


@pytest.mark.django_db
def test_any_exception_in_a_poll_is_recorded_backs_off_and_shows(fixture_server, prefix, client, monkeypatch, settings):
    feed_url = serve_site(fixture_server, prefix, ["Harbour wall repaired"])
    feed = add_url(feed_url).feeds[0]

    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(kinds, "parse_feed", overflow)
    before = timezone.now()
    outcome = ingest.fetch_feed(feed.pk)
    assert outcome.status == "error"
    feed.refresh_from_db()
    assert feed.error_count == 1
    assert feed.last_error == "internal error: OverflowError: date value out of range"
    assert feed.last_fetched_at >= before and feed.fetch_count == 1
    assert feed.locked_until is None
    first_delay = (feed.next_fetch_at - before).total_seconds()
    assert first_delay >= settings.NEWSDESK_FEED_MIN_INTERVAL * 0.9

    def crash(*args, **kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(kinds, "parse_feed", crash)
    Feed.objects.filter(pk=feed.pk).update(next_fetch_at=timezone.now())
    ingest.fetch_feed(feed.pk)
    feed.refresh_from_db()
    assert feed.error_count == 2 and feed.last_error == "internal error: RuntimeError: parser bug"
    assert (feed.next_fetch_at - timezone.now()).total_seconds() > first_delay * 1.5  # exponential
    assert Feed.objects.filter(pk=feed.pk, enabled=True, next_fetch_at__lte=timezone.now()).count() == 0

    page = client.get("/sources/").content.decode()
    assert "failing (2 in a row): internal error: RuntimeError: parser bug" in page
    assert "last tried" in page


@pytest.mark.django_db
def test_a_page_that_raises_costs_only_itself_and_falls_back_in_the_end(fixture_server, prefix, monkeypatch):
    titles = ["Bridge reopens", "Museum extends hours", "Ferry timetable changes"]
    feed = add_url(serve_site(fixture_server, prefix, titles)).feeds[0]
    outcome = ingest.fetch_feed(feed.pk)
    assert len(outcome.new_entries) == 3
    real_extract = ingest.extract

    def extract(content, url, **kwargs):
        if url.endswith("/news/1"):
            raise OverflowError("date value out of range")
        return real_extract(content, url, **kwargs)

    monkeypatch.setattr(ingest, "extract", extract)
    result = ingest.process_entries(outcome.new_entries)
    assert result.created == 2 and result.retried == 1
    broken = Entry.objects.get(url__endswith="/news/1")
    assert broken.state == Entry.State.PENDING and broken.attempts == 1
    assert broken.last_error == "internal error: OverflowError: date value out of range"
    assert broken.next_attempt_at > timezone.now() + timedelta(seconds=45)  # backed off

    for _ in range(ingest.MAX_PAGE_ATTEMPTS - 1):
        ingest.process_entries([broken.pk])
    broken.refresh_from_db()
    assert broken.state == Entry.State.DONE
    article = Article.objects.get(pk=broken.article_id)
    assert article.origin == Article.Origin.FEED and article.title == "Museum extends hours"
    assert "internal error: OverflowError" in broken.last_error


@pytest.mark.django_db
def test_a_batch_run_again_queues_enrichment_for_pages_its_dead_run_stored(fixture_server, prefix):
    """A worker killed mid-batch had stored two pages (each commits alone) and queued
    nothing; the retry skips those done entries but must still send their articles on."""
    feed = add_url(serve_site(fixture_server, prefix, ["Dam inspected", "Pier closes", "Tram line opens"])).feeds[0]
    entry_ids = ingest.fetch_feed(feed.pk).new_entries
    ingest.process_entries(entry_ids[:2])  # what the dead run managed
    DBTaskResult.objects.all().delete()

    tasks.process_entries_task.call(entry_ids)

    queued = DBTaskResult.objects.filter(task_path=tasks.enrich_articles_task.module_path)
    assert queued.count() == 1
    articles = set(Entry.objects.filter(pk__in=entry_ids).values_list("article_id", flat=True))
    assert None not in articles and len(articles) == 3
    assert set(queued.get().args_kwargs["args"][0]) == articles


# --- Defect 5: failed tasks are retried with back-off, then shown to staff ----------


@pytest.mark.django_db
def test_a_failing_task_is_retried_with_back_off_then_given_up_and_shown_to_staff(
    client, admin_client, monkeypatch, settings
):
    import newsdesk.stories.assign

    def broken(article_ids):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(newsdesk.stories.assign, "place_articles", broken)
    result = story_tasks.place_in_stories_task.enqueue([1, 2, 3])
    row = run_row(DBTaskResult.objects.get(pk=result.id))
    assert row.status == "FAILED"

    delays = []
    for attempt in range(1, settings.NEWSDESK_TASK_MAX_ATTEMPTS):
        now = timezone.now()
        recovered = recover(now)
        assert (recovered.retried, recovered.given_up) == (1, 0)
        failure = TaskFailure.objects.get(result_id=row.pk)
        assert failure.attempt == attempt and failure.outcome == TaskFailure.Outcome.RETRIED
        assert failure.error == "OverflowError: date value out of range"
        retry = DBTaskResult.objects.get(pk=failure.retry_result_id)
        assert retry.status == "READY" and retry.args_kwargs["args"] == [[1, 2, 3]]
        assert retry.task_path == row.task_path and retry.priority == tasks.STORY_PRIORITY
        delays.append(round((retry.run_after - now).total_seconds()))
        assert not DBTaskResult.objects.ready().filter(pk=retry.pk).exists()  # not before its time
        if attempt == 1:  # staff see it waiting
            page = admin_client.get("/sources/").content.decode()
            assert "0 failed and given up" in page and "1 waiting for retry" in page
            assert "OverflowError: date value out of range" in page
        assert recover(now).retried == 0  # each failure is handled once
        row = run_row(retry)
        assert row.status == "FAILED"
    assert delays == [30, 120, 480, 1920]

    recovered = recover()
    assert (recovered.retried, recovered.given_up) == (0, 1)
    last = TaskFailure.objects.get(result_id=row.pk)
    assert last.outcome == TaskFailure.Outcome.GAVE_UP and last.attempt == settings.NEWSDESK_TASK_MAX_ATTEMPTS
    assert not DBTaskResult.objects.filter(status="READY").exists()

    staff_page = admin_client.get("/sources/").content.decode()
    assert "1 failed and given up" in staff_page and "0 waiting for retry" in staff_page
    assert "place_in_stories_task</a> given up after 5 attempts" in staff_page
    anonymous = client.get("/sources/").content.decode()
    assert "given up" not in anonymous and "OverflowError" not in anonymous
    listing = admin_client.get("/admin/recovery/taskfailure/?outcome__exact=gave-up")
    assert listing.status_code == 200 and "OverflowError: date value out of range" in listing.content.decode()
    assert admin_client.get(f"/admin/recovery/taskfailure/{last.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_a_run_is_closed_only_when_its_worker_is_silent(settings):
    settings.NEWSDESK_WORKER_DEAD_AFTER = 20
    now = timezone.now()
    long_ago = now - timedelta(minutes=5)
    source = Source.objects.create(name="Gazette", slug="gazette", home_url="https://g.example/")
    feed = Feed.objects.create(source=source, url="https://g.example/feed", locked_until=now + timedelta(minutes=9))
    rows = {}
    for worker, beat in [
        ("alive", now - timedelta(seconds=3)),
        ("silent", now - timedelta(seconds=60)),
        ("missing", None),
    ]:
        if beat:  # a pid that exists on no machine: only the heartbeat speaks for it
            WorkerHeartbeat.objects.create(worker_id=worker, host="elsewhere", pid=1, started_at=long_ago, beat_at=beat)
        rows[worker] = DBTaskResult.objects.get(pk=tasks.fetch_feed_task.enqueue(feed.pk).id)
        DBTaskResult.objects.filter(pk=rows[worker].pk).update(
            status="RUNNING", started_at=long_ago, worker_ids=[worker]
        )
    # Late heartbeat, but the process runs on this machine: alive (SQLite can delay a beat).
    WorkerHeartbeat.objects.create(
        worker_id="here",
        host=socket.gethostname(),
        pid=os.getpid(),
        started_at=long_ago,
        beat_at=now - timedelta(minutes=2),
    )
    here = DBTaskResult.objects.get(pk=tasks.fetch_feed_task.enqueue(feed.pk).id)
    DBTaskResult.objects.filter(pk=here.pk).update(status="RUNNING", started_at=long_ago, worker_ids=["here"])

    assert close_lost_runs(now) == 2
    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status[rows["alive"].pk] == "RUNNING" and status[here.pk] == "RUNNING"
    for worker in ("silent", "missing"):
        row = DBTaskResult.objects.get(pk=rows[worker].pk)
        assert row.status == "FAILED" and row.exception_class_path == WORKER_LOST and row.finished_at == now
        assert row.traceback.startswith("worker lost (no heartbeat")
    recovered = recover(now)
    assert recovered.retried == 2
    feed.refresh_from_db()
    assert feed.locked_until is None  # released for the re-queued polls, which run at once
    assert DBTaskResult.objects.ready().filter(task_path=tasks.fetch_feed_task.module_path).count() == 2


# --- Defect 4: a killed worker's batch is back within seconds, not a lease ----------


@pytest.mark.slow
def test_killed_worker_task_is_closed_requeued_and_done_by_another_worker(fixture_server, env):
    prefix = "/recovery-kill"
    env = {
        **env,
        "NEWSDESK_TASK_LEASE": "600",
        "NEWSDESK_FETCH_TIMEOUT": "120",
        "NEWSDESK_WORKER_HEARTBEAT": "1",
        "NEWSDESK_WORKER_DEAD_AFTER": "4",
    }
    first_request = threading.Event()

    def slow_then_fine(request):
        page = article_page("Slow page", LOREM)
        if not first_request.is_set():
            first_request.set()
            return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}, delay=90)
        return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})

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
    second = None
    try:
        assert first_request.wait(90), "the worker never asked for the page"
        db = database(env)
        assert db.execute("SELECT count(*) FROM recovery_workerheartbeat").fetchone()[0] == 1
        # Workers yield the CPU to the pages (NEWSDESK_WORKER_NICE, 10 by default).
        assert niceness(worker.pid) == min(19, os.nice(0) + 10)
        # Its tasks run under SCHED_IDLE (the main thread, NEWSDESK_WORKER_IDLE); the
        # heartbeat thread started before keeps the normal policy.
        policies = {int(tid): os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{worker.pid}/task")}
        assert policies[worker.pid] == os.SCHED_IDLE
        assert os.SCHED_OTHER in policies.values()
        worker.send_signal(signal.SIGKILL)  # killed in the middle of the page task
        worker.wait()
        killed = time.monotonic()
        second = spawn(env, "worker")
        task_row = (
            "SELECT status, exception_class_path, traceback FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE '%process_entries_task' ORDER BY enqueued_at LIMIT 1"
        )
        assert db.execute(task_row).fetchone()[0] == "RUNNING"

        wait_for(lambda: db.execute(task_row).fetchone()[0] == "FAILED", 30, "the lost run to be closed")
        closed_after = time.monotonic() - killed
        status, exception, traceback = db.execute(task_row).fetchone()
        assert exception == WORKER_LOST and traceback.startswith("worker lost (no heartbeat since")
        wait_for(
            lambda: db.execute("SELECT count(*) FROM articles_article").fetchone()[0] == 1,
            60,
            "the page to be fetched by the second worker",
        )
        done_after = time.monotonic() - killed
        assert closed_after < 15, closed_after  # dead after 4 s, a recovery pass every second
        assert done_after < 45, done_after  # includes the second worker loading its models
        title, body = db.execute("SELECT title, body_text FROM articles_article").fetchone()
        assert title == "Slow page" and LOREM[3] in body
        assert db.execute("SELECT state FROM sources_entry").fetchone()[0] == "done"
        lost, outcome = db.execute("SELECT worker_lost, outcome FROM recovery_taskfailure").fetchone()
        assert lost and outcome == "retried"
        db.close()
    finally:
        for process in (second, worker, scheduler):
            if process is not None:
                stop(process)


def autogroup_nice(pid: int) -> int:
    """The nice value of a process's session autogroup ("/autogroup-N nice K")."""
    return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])


def in_an_autogroup() -> bool:
    """The kernel has session autogroups and places this process in one: a process in a cpu
    cgroup of its own (containers, systemd slices) shows an empty file and is weighed by its
    cgroup instead, where the process nice already counts."""
    path = Path("/proc/self/autogroup")
    return path.exists() and bool(path.read_text().strip())


@pytest.mark.skipif(not in_an_autogroup(), reason="this process is in no session autogroup")
def test_a_worker_in_a_session_of_its_own_yields_the_cpu_too(env):
    """Nice counts only within a session's autogroup: a worker leading its own session
    nices its autogroup as well; one in the caller's session leaves the caller's alone."""
    assert newsdesk(env, "migrate", "--verbosity", "0").returncode == 0
    own = subprocess.Popen(
        [sys.executable, "-m", "newsdesk", "worker"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shared = spawn(env, "worker")
    try:
        wait_for(
            lambda: niceness(own.pid) > os.nice(0) and niceness(shared.pid) > os.nice(0),
            60,
            "the workers to lower their priority",
        )
        assert autogroup_nice(own.pid) == 10
        assert autogroup_nice(shared.pid) == autogroup_nice(os.getpid())
    finally:
        stop(own)
        stop(shared)
