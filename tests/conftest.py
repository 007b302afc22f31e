"""Shared test fixtures.

The network tests talk to FixtureServer, a real HTTP server on 127.0.0.1; none of them
needs the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtureserver import FixtureServer


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[FixtureServer]:
    """One server for the whole session; tests register routes under their own paths."""
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server() -> Iterator[FixtureServer]:
    """A server of its own, for tests that depend on robots.txt or count every request."""
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fetch_settings(settings):
    """Let the pipeline reach the fixture server (127.0.0.1) without politeness delays.

    The fetcher is per process and built from settings, so it is rebuilt for each test.
    """
    from newsdesk.sources.client import reset_fetcher

    settings.NEWSDESK_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.NEWSDESK_FETCH_HOST_DELAY = 0.0
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    reset_fetcher()
    yield
    reset_fetcher()


# --- Running on PostgreSQL and Redis (DATABASE_URL / REDIS_URL, see .ci/run) ----------


@pytest.fixture(autouse=True)
def _fresh_caches(settings):
    """The caches (rate limits, sessions, cached pages) outlive each test: the
    per-process LocMemCache for the whole session, Redis (REDIS_URL) even the run. A
    test's database is rolled back, so the next test's article 1 is another article,
    while a page cached under its URL would still be served; empty them so that no test
    sees another's pages or counters. The tests use their own Redis database
    (tests/isolated_env.py), never the one REDIS_URL names; the rate limits' files
    (diskcache) are in the run's own data directory. A database cache lives in the
    rolled-back database and needs nothing."""
    from django.core.cache import caches

    for alias, config in settings.CACHES.items():
        if "DatabaseCache" not in config["BACKEND"]:
            caches[alias].clear()
    yield


@pytest.fixture(autouse=True)
def _own_vector_index(settings, tmp_path):
    """The related-articles index is files on disk, outside the rolled-back database:
    each test gets a directory of its own, so that no test finds another's article 2 in
    it (the process's reader follows the setting)."""
    settings.NEWSDESK_VECTOR_DIR = str(tmp_path / "vectors")
    yield


class ProcessDatabase:
    """The database that `newsdesk` subprocesses of one test use.

    On SQLite, each test's data directory has its own file: `url` is None and
    DATABASE_URL is removed from the subprocesses' environment. On PostgreSQL, a fresh
    empty database on the test server (the subprocesses migrate it as a user would),
    dropped after the test.
    """

    def __init__(self, url: str | None) -> None:
        self.url = url

    def environ(self, env: dict[str, str]) -> dict[str, str]:
        env = dict(env)
        env.pop("DATABASE_URL", None)
        if self.url:
            env["DATABASE_URL"] = self.url
        return env


def _server_url(database: str) -> str:
    """DATABASE_URL with another database name (same server, role and options)."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture
def process_database() -> Iterator[ProcessDatabase]:
    import os
    import uuid

    from django.db import connection

    if connection.vendor != "postgresql":
        yield ProcessDatabase(None)
        return
    import psycopg

    name = f"newsdesk_process_{uuid.uuid4().hex[:12]}"
    # The role of DATABASE_URL has CREATEDB, as the test runner needs it for test_*.
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ProcessDatabase(_server_url(name))
    finally:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
