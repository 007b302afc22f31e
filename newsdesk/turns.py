"""One request at a time runs Python in a web process; one that waits on something slow
steps aside for the others.

A page is CPU work in Python. Threads of one process share one interpreter lock, and
four threads rendering pages at once cost each page about a third more CPU (lock
handoffs, caches) and made the slowest pages twice as slow as the typical one
(`newsdesk bench web`, issue 12). Single-threaded processes avoid that, but then an
answer that waits seconds on an LLM, or a comment post that waits for SQLite's write
lock, holds the whole process. So gunicorn keeps its threads, and each request takes
its turn (`serve`): the turns are handed out in arrival order, and code that waits on
something other than our CPU (`aside`) gives its turn back while it waits and queues
again after.

Outside a web process nothing holds a turn and `aside` does nothing. No Django here:
the AI and database layers wrap their waits in it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["aside", "serve"]


class _Turns:
    """A lock handed to waiters in the order they asked (threading.Lock wakes any one,
    and a page could wait behind many later ones)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def take(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            wake = threading.Lock()
            wake.acquire()
            self._waiting.append(wake)
        wake.acquire()  # released by give(), which hands the turn over still held

    def give(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False


_turns = _Turns()
_mine = threading.local()


@contextmanager
def aside() -> Iterator[None]:
    """Give the turn back while waiting (an HTTP call, a socket, a sleep), if this thread
    holds one; take a turn again after."""
    if not getattr(_mine, "held", False):
        yield
        return
    _mine.held = False
    _turns.give()
    try:
        yield
    finally:
        _turns.take()
        _mine.held = True


def serve(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """`app` (a WSGI application) running each request in its turn. The response's
    bytes are sent after the turn: sending is the server's, and a file is streamed by
    the kernel."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _turns.take()
        _mine.held = True
        try:
            return app(environ, start_response)
        finally:
            _mine.held = False
            _turns.give()

    return application
