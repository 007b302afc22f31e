"""Bookkeeping writes commit without waiting for the disk on PostgreSQL, and only they."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from newsdesk.lazy_writes import lazy_commit


def _synchronous_commit() -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def durable_session():
    """A server set up for tests may not flush at commit at all (CI's): this session does,
    as production's, so that the test sees what lazy_commit changes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = on")
    yield
    if connection.vendor == "postgresql" and connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


@pytest.mark.django_db(transaction=True)
def test_the_write_is_kept_and_only_its_own_transaction_skips_the_flush():
    user = get_user_model().objects.create_user("ada")
    before = _synchronous_commit()
    with lazy_commit():
        get_user_model().objects.filter(pk=user.pk).update(first_name="Ada")
        inside = _synchronous_commit()
    assert get_user_model().objects.get(pk=user.pk).first_name == "Ada"
    assert _synchronous_commit() == before  # the next transaction is durable again
    if connection.vendor == "postgresql":
        assert (before, inside) == ("on", "off")


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_nothing_changes_and_a_rollback_undoes_the_write():
    user = get_user_model().objects.create_user("grace")
    with pytest.raises(RuntimeError), transaction.atomic():
        get_user_model().objects.filter(pk=user.pk).update(last_name="Hopper")
        with lazy_commit():
            get_user_model().objects.filter(pk=user.pk).update(first_name="Grace")
            assert _synchronous_commit() in (None, "on")  # the caller's writes stay durable
        raise RuntimeError("the caller fails")
    assert get_user_model().objects.filter(pk=user.pk, first_name="", last_name="").exists()


@pytest.mark.django_db(transaction=True)
def test_after_response_writes_run_when_the_response_is_closed_and_a_failure_is_only_logged(caplog):
    from django.db import DatabaseError
    from django.http import HttpResponse
    from django.test import RequestFactory

    from newsdesk.lazy_writes import AfterResponseMiddleware, after_response

    user = get_user_model().objects.create_user("linus")

    def broken() -> None:
        raise DatabaseError("the database went away")

    def view(request):
        after_response(request, broken)
        after_response(request, lambda: get_user_model().objects.filter(pk=user.pk).update(first_name="Linus"))
        return HttpResponse("sent")

    response = AfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert response.content == b"sent"
    assert get_user_model().objects.get(pk=user.pk).first_name == ""  # not before the bytes went out
    response.close()  # what the WSGI server does once it has sent them
    assert get_user_model().objects.get(pk=user.pk).first_name == "Linus"
    assert "a bookkeeping write failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_api_token_use_is_noted_by_the_time_the_client_has_the_answer(client):
    from newsdesk.api.models import ApiToken

    user = get_user_model().objects.create_user("ken")
    token, secret = ApiToken.issue(user, name="app")
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
