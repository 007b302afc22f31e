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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database gets the rate-limit cache table, as `newsdesk up` creates it."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
