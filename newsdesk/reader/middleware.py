"""Marks an article read when a signed-in reader opens its page.

A middleware rather than a line in the article view: the reader's side (this app) and
the site's pages (newsdesk.web) are sibling layers that do not import each other, and
the article view serves anonymous readers from the page cache, which must never see a
reader. Only a successful GET of the `article` URL by a signed-in reader counts.
After a listing page that asked for its "new since" boundary, the reader's visit is
recorded the same way (new_since.after_response).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from newsdesk.reader import new_since, state

ARTICLE_VIEW = "article"
logger = logging.getLogger(__name__)


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
            try:
                state.opened(request.user, int(match.kwargs["pk"]))
            except DatabaseError:  # the page is served; a read mark is not worth a 500
                logger.warning("could not record article %s as read", match.kwargs["pk"], exc_info=True)
        # A listing that showed "new since your last visit" markers: the visit, and when
        # the reader last opened a followed listing (new_since.py).
        if request.method == "GET" and response.status_code == 200:
            try:
                new_since.after_response(request)
            except DatabaseError:
                logger.warning("could not record the reader's visit", exc_info=True)
        return response
