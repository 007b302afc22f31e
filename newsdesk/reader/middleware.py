"""Marks an article read when a signed-in reader opens its page.

A middleware rather than a line in the article view: the reader's side (this app) and
the site's pages (newsdesk.web) are sibling layers that do not import each other, and
the article view serves anonymous readers from the page cache, which must never see a
reader. Only a successful GET of the `article` URL by a signed-in reader counts.
After a listing page that asked for its "new since" boundary, the reader's visit is
recorded the same way (new_since.after_response). Both are written once the response
has gone out (lazy_writes.after_response), so no page waits for SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from newsdesk import lazy_writes
from newsdesk.reader import new_since, state

ARTICLE_VIEW = "article"


class ReadingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.url_name == ARTICLE_VIEW
            and not match.namespace
            and request.method == "GET"
            and response.status_code == 200
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            # After the response has gone out (lazy_writes): the page does not wait for the
            # write lock, which an ingest holds often; a failed write is logged, not a 500.
            reader, article_id = request.user, int(match.kwargs["pk"])
            lazy_writes.after_response(request, lambda: state.opened(reader, article_id))
        # A listing that showed "new since your last visit" markers: the visit, and when
        # the reader last opened a followed listing (new_since.py).
        if request.method == "GET" and response.status_code == 200:
            new_since.after_response(request)
        return response
