"""Fixtures shared by the reader's test modules (imported by name into each): the small
web world of tests/web_data.py, and a reader signed in with the test client. The caches
are emptied before every test by conftest's `_fresh_caches`."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from newsdesk.reader.briefings import fanout
from newsdesk.reader.briefings.models import FanoutState
from newsdesk.reader.briefings.tasks import fanout_task
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


def fan_out_everything(settings) -> None:
    """The alerts' fan-out over every stored article, as the scheduler runs it after
    ingest (on a new site it starts at the newest article; here at the first)."""
    settings.NEWSDESK_ALERTS_WAIT = 0
    FanoutState.objects.update_or_create(pk=1, defaults={"planned_through": 0})
    for batch_id in fanout.plan():
        fanout_task.call(batch_id)
