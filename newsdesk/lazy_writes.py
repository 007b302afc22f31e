"""Bookkeeping writes that need not wait for the disk, nor keep the reader waiting.

When a token was last used or a reader last visited is worth keeping, but not worth a
disk flush on the request's path: on PostgreSQL a durable commit waits for the WAL to
reach the disk (about 3 ms here, a third of an unread-count request). Inside
`lazy_commit()`, PostgreSQL commits without waiting (`synchronous_commit = off`): a crash
may lose the last few such writes, never consistency, and other writes keep their
durability. SQLite in WAL mode with `synchronous=NORMAL` (settings) does not flush at
commit anyway, so there it is a plain transaction.

`after_response()` goes further for writes nobody reads back at once (when a token was
last used): they run when the server closes the response, after its bytes went out, so
the request's latency does not include their round trips (AfterResponseMiddleware).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)
_LATER = "_newsdesk_after_response"


@contextmanager
def lazy_commit(using: str = "default") -> Iterator[None]:
    """A transaction whose commit does not wait for the disk, where the database allows.
    Inside a caller's transaction it is a savepoint and changes nothing: the setting
    would cover the caller's writes too."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def after_response(request: HttpRequest | None, write: Callable[[], object]) -> None:
    """Run `write` (in lazy_commit) once the response has been sent; at once when there
    is no request or no AfterResponseMiddleware will run it (a request built outside the
    middleware stack)."""
    later = getattr(request, _LATER, None)
    if later is None:
        _run(write)
    else:
        later.append(write)


def _run(write: Callable[[], object]) -> None:
    try:
        with lazy_commit():
            write()
    except DatabaseError:  # bookkeeping: the response stands, the next request retries
        logger.warning("a bookkeeping write failed", exc_info=True)


class AfterResponseMiddleware:
    """Hands the request's after_response writes to the response's closers, which the
    WSGI server calls after sending it (and Django's test client before it returns)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        later: list[Callable[[], object]] = []
        setattr(request, _LATER, later)
        response = self.get_response(request)
        for write in later:
            response._resource_closers.append(lambda write=write: _run(write))
        return response
