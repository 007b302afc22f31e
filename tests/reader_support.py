"""Fixtures shared by the reader's test modules (imported by name into each): the small
web world of tests/web_data.py, and a reader signed in with the test client. The caches
are emptied before every test by conftest's `_fresh_caches`."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import web_data

PASSWORD = "a long password 42"


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return web_data.build_world()


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice-reader", "alice@example.org", PASSWORD)


@pytest.fixture
def signed_in(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client
