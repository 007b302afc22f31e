"""newsdesk on PostgreSQL and Redis: the scale-out configuration (see the README's
"Production" section). These run in the second leg of .ci/run (`bin/test --postgres` locally)
and skip on SQLite.

- search: the PostgreSQL backend (newsdesk/search/postgres.py) with each article's own
  language's stemming, diacritics folded, the GIN expression index really used, and the
  search migration reversible;
- tasks: django-tasks-db's database queue (SELECT ... FOR UPDATE SKIP LOCKED) shared by
  two `newsdesk worker` processes, a feed never polled by two of them at once (the feed
  lock in newsdesk/pipeline/ingest.py), and the scheduler as a process of its own;
- Redis: the cache and the sessions really are in Redis, shared between processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from newsdesk.articles.models import Article, Enrichment
from newsdesk.search.backends import search
from newsdesk.search.types import SearchFilters
from newsdesk.sources.models import Entry, Feed, Source
from tests.fixtureserver import Reply
from tests.pages import LOREM, article_page, rss

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="PostgreSQL only (DATABASE_URL=postgres://..., the second leg of .ci/run)",
)
redis_only = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (the second leg of .ci/run)")
_numbers = iter(range(1, 10**9))


def make_source(slug: str, language: str = "en") -> Source:
    return Source.objects.create(name=slug.title(), slug=slug, home_url=f"https://{slug}.example", language=language)


def make_article(
    source: Source, title: str, body: str = "", *, language: str | None = None, age: timedelta = timedelta(hours=1)
) -> Article:
    n = next(_numbers)
    return Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/pg/{n}",
        title=title,
        body_text=body,
        language=language or source.language,
        content_hash=f"pg{n:038x}",
        published_at=timezone.now() - age,
    )


def ids(query: str, filters: SearchFilters = SearchFilters()) -> list[int]:
    return [hit.article_id for hit in search(query, filters)[0]]


# --- Search on PostgreSQL ------------------------------------------------------------


@postgres_only
@pytest.mark.django_db
def test_search_runs_on_the_postgres_backend():
    from newsdesk.search.backends import backend
    from newsdesk.search.postgres import PostgresBackend

    assert isinstance(backend(), PostgresBackend)


@postgres_only
@pytest.mark.django_db
def test_english_articles_are_stemmed_as_english():
    daily = make_source("daily")
    article = make_article(daily, "Elections called early", "Voters were running to the polls.")
    make_article(daily, "Markets steady", "Traders waited for the bank.")
    assert ids("election") == [article.pk]
    assert ids("elected") == [article.pk]  # elect-
    assert ids("runs") == [article.pk]
    assert ids("voter") == [article.pk]


@postgres_only
@pytest.mark.django_db
def test_german_articles_are_stemmed_as_german():
    """ "Haus" finds "Häuser" in a German article (German stemmer after unaccent), but not
    the English surname "Hauser", which English stemming leaves alone."""
    zeitung = make_source("zeitung", language="de")
    daily = make_source("daily")
    german = make_article(zeitung, "Die Häuser der Altstadt", "Die Stadt verkaufte alte Häuser.")
    make_article(daily, "Hauser wins the final", "Anna Hauser won in three sets.")
    assert ids("Haus") == [german.pk]
    assert ids("Hauses") == [german.pk]
    assert ids("verkauft") == [german.pk]  # verkaufte -> verkauft


@postgres_only
@pytest.mark.django_db
def test_each_article_uses_its_own_language_not_its_sources():
    """An English article from a German publisher is stemmed as English (the query is
    parsed with the configurations of the sources' languages)."""
    zeitung = make_source("zeitung", language="de")
    make_source("daily", language="en")
    english = make_article(zeitung, "Floods reach the capital", language="en")
    assert ids("flooding") == [english.pk]  # flood-
    assert connection.cursor().execute(
        "SELECT newsdesk_search_config('en-GB')::text, newsdesk_search_config('de')::text,"
        " newsdesk_search_config('xx')::text, newsdesk_search_config(NULL)::text"
    ).fetchone() == ("newsdesk_english", "newsdesk_german", "newsdesk_simple", "newsdesk_simple")


@postgres_only
@pytest.mark.django_db
def test_language_filter_searches_with_that_language_only():
    zeitung = make_source("zeitung", language="de")
    daily = make_source("daily")
    german = make_article(zeitung, "Wahlen in Bayern", "Die Wahlen wurden verschoben.")
    english = make_article(daily, "Wahlen is a village", "Wahlen lies in Switzerland.")
    assert set(ids("wahlen")) == {german.pk, english.pk}
    assert ids("wahlen", SearchFilters(language="de")) == [german.pk]
    assert ids("wahlen", SearchFilters(language="en")) == [english.pk]


@postgres_only
@pytest.mark.django_db
def test_diacritics_are_folded_in_every_language():
    zeitung = make_source("zeitung", language="de")
    journal = make_source("journal", language="fr")
    zurich = make_article(zeitung, "Zürich stimmt ab")
    elections = make_article(journal, "Les élections présidentielles")
    assert ids("zurich") == [zurich.pk]
    assert ids("ZÜRICH") == [zurich.pk]
    assert ids("election") == [elections.pk]  # French stem of élections, unaccented


@postgres_only
@pytest.mark.django_db
def test_snippets_come_from_ts_headline_in_the_articles_language():
    zeitung = make_source("zeitung", language="de")
    article = make_article(zeitung, "Häuser", "Am Markt stehen viele alte Häuser aus Holz.")
    hits, total = search("Haus")
    assert total == 1 and hits[0].article_id == article.pk
    assert "<mark>Häuser</mark>" in hits[0].snippet


@postgres_only
@pytest.mark.django_db
def test_search_query_uses_the_gin_index_on_the_stored_vector():
    """Matching reads the stored column's GIN index (sequential scans and the walk in
    publication order are switched off so that a tiny table does not hide the answer)."""
    from newsdesk.search.postgres import tsquery
    from newsdesk.search.query import parse

    make_article(make_source("daily"), "Volcano erupts")
    sql, params = tsquery(parse("volcano"), ["newsdesk_english", "newsdesk_simple"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN SELECT id FROM articles_article WHERE search_vector @@ {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_article_vector" in plan, plan


@postgres_only
@pytest.mark.django_db
def test_walking_the_dates_and_reading_the_index_find_the_same(monkeypatch):
    """The two ways of finding the newest matches (see postgres._Plan) agree: forced by
    a sample too small to conclude and a walk limit too short to finish."""
    from newsdesk.search import postgres

    daily = make_source("daily")
    zeitung = make_source("zeitung", language="de")
    for i in range(12):
        article = make_article(
            daily if i % 3 else zeitung, f"Volcano report {i}" if i % 2 else f"Markets {i}", age=timedelta(days=i)
        )
        Enrichment.objects.create(
            article=article, section="science" if i % 4 == 1 else "world", published_at=article.published_at
        )
    week = date.today() - timedelta(days=6)
    queries = [
        ("volcano", SearchFilters()),
        ("volcano", SearchFilters(source="daily")),
        ('"volcano report"', SearchFilters()),
        ("volcano -markets", SearchFilters(language="en")),
        ("volcano", SearchFilters(section="science")),
        ("volcano", SearchFilters(section="science", since=week)),
        ("volcano", SearchFilters(section="science", source="daily")),
    ]
    walked = [search(q, f) for q, f in queries]
    monkeypatch.setattr(postgres, "SAMPLE", 1)
    monkeypatch.setattr(postgres, "WALK_LIMIT", 1)
    monkeypatch.setattr(postgres, "READ_BUDGET_US", 10**12)
    read = [search(q, f) for q, f in queries]
    assert [[h.article_id for h in r[0]] for r in read] == [[h.article_id for h in r[0]] for r in walked]
    # the same rank, give or take float4 rounding in the last digit (the plans sum in other orders)
    assert [[h.score for h in r[0]] for r in read] == [[pytest.approx(h.score, rel=1e-5) for h in r[0]] for r in walked]
    assert [r[1] for r in read] == [r[1] for r in walked] == [6, 4, 6, 4, 3, 2, 2]


@postgres_only
@pytest.mark.django_db
def test_stored_vector_follows_text_and_language_changes():
    zeitung = make_source("zeitung", language="de")
    make_source("daily", language="en")
    article = make_article(zeitung, "Die Häuser der Altstadt")
    assert ids("Haus") == [article.pk]
    Article.objects.filter(pk=article.pk).update(title="Neue Brücken")
    assert ids("Haus") == [] and ids("Brücke") == [article.pk]
    Article.objects.filter(pk=article.pk).update(title="Elections called", language="en")
    assert ids("elected") == [article.pk]  # English stemming now


@postgres_only
@pytest.mark.django_db
def test_index_survives_table_changes_and_the_command_says_so():
    """The counterpart of SQLite's trigger repair: PostgreSQL keeps an expression index
    through ALTER TABLE, and `newsdesk search_index` has nothing to do."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE articles_article ADD COLUMN scratch integer")
        cursor.execute("ALTER TABLE articles_article DROP COLUMN scratch")
    article = make_article(make_source("daily"), "Volcano erupts")
    assert ids("volcano") == [article.pk]
    with pytest.raises(CommandError, match="PostgreSQL keeps its GIN index"):
        call_command("search_index", "check")


@postgres_only
@pytest.mark.django_db
def test_migrations_are_complete_and_the_search_migration_reverses():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

    def index_exists() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('search_article_vector') IS NOT NULL")
            return cursor.fetchone()[0]

    assert index_exists()
    call_command("migrate", "search", "zero", verbosity=0)
    assert not index_exists()
    call_command("migrate", "search", verbosity=0)
    assert index_exists()
    article = make_article(make_source("daily"), "Volcano erupts")
    assert ids("volcano") == [article.pk]


# --- Task workers on PostgreSQL ------------------------------------------------------


class Worker:
    """A `newsdesk worker` process on the test database; its output is collected."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newsdesk", "worker", "--verbosity", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if "Starting worker" in line:
                self.ready.set()

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def process_env(django_db_setup, tmp_path_factory) -> dict[str, str]:
    """The environment of worker and scheduler processes: the test database itself, so
    that what a transactional test writes is what they see."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from urllib.parse import urlsplit, urlunsplit

    test_database = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"])
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(test_database),
        "NEWSDESK_DATA_DIR": str(tmp_path_factory.mktemp("workers")),
        "NEWSDESK_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSDESK_FETCH_HOST_DELAY": "0",
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def two_workers(process_env) -> Iterator[list[Worker]]:
    """Two worker processes for the module (each loads the AI models once)."""
    workers = [Worker(process_env) for _ in range(2)]
    try:
        for worker in workers:
            assert worker.ready.wait(180), "".join(worker.lines)
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def task_results():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.all()


def queue_drained() -> bool:
    from django_tasks_db.models import DBTaskResult

    return not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()


def overlapping(requests) -> bool:
    spans = sorted((r.started, r.finished or float("inf")) for r in requests)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


@postgres_only
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_one_queue(fixture_server, two_workers):
    from newsdesk.pipeline.tasks import fetch_feed_task

    source = make_source("shared-queue")
    feeds = []
    for k in range(12):
        path = f"/pg-queue/{k}.xml"
        fixture_server.route(path, Reply(200, rss([]), {"Content-Type": "application/rss+xml"}, delay=0.4))
        feeds.append(Feed.objects.create(source=source, url=fixture_server.url(path)))
    for feed in feeds:
        fetch_feed_task.enqueue(feed.pk)

    wait_for(queue_drained, 120, "the workers to empty the queue")
    results = list(task_results())
    assert len(results) == 12
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert all(len(r.worker_ids) == 1 for r in results), "a task was claimed twice"
    assert len({r.worker_ids[0] for r in results}) == 2, "one worker did all the work"
    for k in range(12):
        assert len(fixture_server.hits(f"/pg-queue/{k}.xml")) == 1


@postgres_only
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_feed_is_never_polled_by_two_workers_at_once(fixture_server, two_workers):
    """Six polls of one slow feed queued at once: the workers run them side by side, but
    the feed's lock lets only one poll in at a time; the others report "busy"."""
    from newsdesk.pipeline.tasks import fetch_feed_task

    path = "/pg-lock/feed.xml"
    fixture_server.route(path, Reply(200, rss([]), {"Content-Type": "application/rss+xml"}, delay=2.0))
    feed = Feed.objects.create(source=make_source("locked"), url=fixture_server.url(path))
    for _ in range(6):
        fetch_feed_task.enqueue(feed.pk)

    wait_for(queue_drained, 120, "the workers to empty the queue")
    results = list(task_results())
    statuses = [r.return_value["status"] for r in results]
    assert len({r.worker_ids[0] for r in results}) == 2, "the two workers did not run side by side"
    assert "busy" in statuses, statuses
    hits = fixture_server.hits(path)
    assert len(hits) == statuses.count("ok") >= 1
    assert not overlapping(hits), "two polls of the feed were in flight at once"
    feed.refresh_from_db()
    assert feed.locked_until is None and feed.fetch_count == len(hits)


@postgres_only
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_scheduler_runs_as_a_process_of_its_own(fixture_server, two_workers, process_env):
    """The one scheduler only queues; the workers poll the feed once (the lease keeps the
    scheduler from queueing it again) and fetch every page once."""
    prefix = "/pg-scheduler"
    titles = ["Ferry service restored", "Bridge reopens to traffic", "Harbour wall repaired"]
    for n, title in enumerate(titles):
        fixture_server.route(
            f"{prefix}/story-{n}", Reply(200, article_page(title, LOREM), {"Content-Type": "text/html; charset=utf-8"})
        )
    fixture_server.route(
        f"{prefix}/feed.xml",
        Reply(
            200,
            rss(
                [{"title": title, "link": fixture_server.url(f"{prefix}/story-{n}")} for n, title in enumerate(titles)]
            ),
            {"Content-Type": "application/rss+xml"},
        ),
    )
    feed = Feed.objects.create(
        source=make_source("scheduled"), url=fixture_server.url(f"{prefix}/feed.xml"), next_fetch_at=timezone.now()
    )

    scheduler = subprocess.Popen(
        [sys.executable, "-m", "newsdesk", "scheduler", "--interval", "0.3"],
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: Article.objects.count() == len(titles), 120, "the articles to be stored")
        time.sleep(2)  # several more scheduler passes: nothing is queued twice
        wait_for(queue_drained, 180, "the workers to finish (enrichment included)")
    finally:
        stop(scheduler)
    assert sorted(Article.objects.values_list("title", flat=True)) == sorted(titles)
    assert set(Entry.objects.values_list("state", flat=True)) == {"done"}
    assert len(fixture_server.hits(f"{prefix}/feed.xml")) == 1
    for n in range(len(titles)):
        assert len(fixture_server.hits(f"{prefix}/story-{n}")) == 1
    # The ingest tasks; what they queue after (enrichment, stories) is other tests' business.
    ingest = [r for r in task_results() if r.task_path.endswith(("fetch_feed_task", "process_entries_task"))]
    assert {r.task_path.rsplit(".", 1)[1] for r in ingest} == {"fetch_feed_task", "process_entries_task"}
    assert {r.status for r in ingest} == {"SUCCESSFUL"}, [r.traceback for r in ingest]
    assert all(len(r.worker_ids) == 1 for r in ingest)
    assert sum(r.task_path.endswith("fetch_feed_task") for r in ingest) == 1
    feed.refresh_from_db()
    assert feed.next_fetch_at > timezone.now() + timedelta(minutes=1)


# --- Cache and sessions in Redis -----------------------------------------------------


def newsdesk_shell(code: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "newsdesk", "shell", "--no-startup", "-c", code],
        env={k: v for k, v in (env or os.environ).items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after "N objects imported automatically"


@redis_only
def test_the_caches_are_redis_and_shared_between_processes(settings):
    from django.core.cache import caches

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings.CACHES["ratelimit"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    caches["default"].set("written-by-pytest", {"pid": os.getpid()}, 60)
    caches["ratelimit"].set("limit-by-pytest", 7, 60)
    code = (
        "from django.core.cache import caches;"
        "print(caches['default'].get('written-by-pytest'), caches['ratelimit'].get('limit-by-pytest'));"
        "caches['default'].set('written-by-child', 'hello', 60)"
    )
    assert newsdesk_shell(code) == f"{{'pid': {os.getpid()}}} 7"
    assert caches["default"].get("written-by-child") == "hello"

    import redis

    keys = {key.decode() for key in redis.Redis.from_url(settings.REDIS_URL).keys("*")}
    assert {key for key in keys if "written-by" in key or "limit-by" in key} == {
        "newsdesk:1:written-by-pytest",
        "newsdesk:1:written-by-child",
        "newsdesk-rl:1:limit-by-pytest",
    }


@redis_only
@pytest.mark.django_db
def test_sessions_live_in_redis(client, settings, django_user_model):
    """A signed-in session is a Redis key that another process can read, with Django's
    own cache store too."""
    import redis

    assert settings.SESSION_ENGINE == "newsdesk.accounts.cache_sessions"  # Django's cache store, subclassed
    user = django_user_model.objects.create_user("redis-reader", password="a long passphrase 123")
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    keys = {key.decode() for key in redis.Redis.from_url(settings.REDIS_URL).keys("*")}
    assert any(session_key in key for key in keys), keys
    code = (
        "from django.contrib.sessions.backends.cache import SessionStore;"
        f"print(SessionStore('{session_key}').get('_auth_user_id'))"
    )
    assert newsdesk_shell(code) == str(user.pk)
