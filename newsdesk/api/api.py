"""The JSON API: one NinjaAPI mounted at /api/, schema at /api/openapi.json.

Every answer is JSON, errors included: {"detail": "<what went wrong>"}, plus "errors"
(each invalid input) on 422. JSON is rendered with <, > and & escaped as \\u003c...,
so even a client that wrongly treats a response as HTML finds no markup in it.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypedDict

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import Operation
from ninja.renderers import JSONRenderer

from newsdesk.api.auth import RateLimited, TokenError, token_optional
from newsdesk.api.docs import CSPSwagger
from newsdesk.api.endpoints import articles, comments, hashtags, me, sources, stories

logger = logging.getLogger(__name__)

_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})

DESCRIPTION = """\
Articles, their AI enrichment, stories, hashtags, sources and comments of this newsdesk.

**Reading** needs no token. **Posting comments** needs one, and **changing sources and
feeds** needs a staff user's token. Send it as `Authorization: Bearer <token>`; an
administrator creates tokens in the admin or with `newsdesk api-token USERNAME` (the
token is shown once: only its hash is stored). A token that is sent must be valid, even
on reads (other schemes, such as a deployment's Basic auth, are ignored on reads).

**Limits**: requests are counted per token, or per address without one; over the
limit the answer is `429` with `Retry-After` (seconds).

**Pages**: lists take `limit` and `offset` and return `count`, `next` and `previous`.

**Errors** are JSON: `{"detail": "..."}`, and on `422` also `errors`, each with
`loc`, `msg` and `type`.
"""


class SafeJSONRenderer(JSONRenderer):
    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> str:
        return super().render(request, data, response_status=response_status).translate(_UNSAFE)


class NewsdeskAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__  # list_articles, not newsdesk_api_endpoints_...


api = NewsdeskAPI(
    title="newsdesk API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=token_optional,
    renderer=SafeJSONRenderer(),
    docs=CSPSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

for module in (articles, stories, hashtags, sources, comments, me):
    api.add_router("", module.router)
api.add_router("", "newsdesk.api.endpoints.yourdata.router")  # GET /me/export: the reader's data
api.add_router("", "newsdesk.api.endpoints.briefings.router")  # briefings (site, personal) and notifications
api.add_router("", "newsdesk.api.endpoints.reading.router")  # the reader's follows, mutes, For You, unread, saved


def error(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = error(
        request,
        429,
        f"Too many requests: at most {exc.limit} per {exc.window} seconds. Try again in {exc.retry_after} seconds.",
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if isinstance(exc, TokenError) else "This needs a valid API token."
    response = error(request, 401, message)
    challenge = 'Bearer realm="newsdesk"'
    if getattr(exc, "invalid", False):
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


class _Problem(TypedDict):
    """One invalid input, as the 422 answer lists it (schemas.ErrorItem)."""

    loc: list[int | str]
    msg: str
    type: str


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems: list[_Problem] = [
        {
            "loc": [part if isinstance(part, int) else str(part) for part in problem.get("loc", ())],
            "msg": str(problem.get("msg", "invalid")),
            "type": str(problem.get("type", "value_error")),
        }
        for problem in exc.errors
    ]
    if problems:
        first = problems[0]
        where = ".".join(str(p) for p in first["loc"][1:] or first["loc"])
        summary = f"{where}: {first['msg']}" if where else first["msg"]
    else:
        summary = "invalid input"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return error(request, 422, f"The request is not valid: {summary}{more}.", errors=problems)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = "The request body is not JSON: send a JSON object with Content-Type: application/json."
    return error(request, exc.status_code, message)


@api.exception_handler(Http404)
def missing(request: HttpRequest, exc: Http404) -> HttpResponse:
    message = str(exc) if exc.args and isinstance(exc.args[0], str) else "Not found."
    return error(request, 404, message)


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return error(request, 500, "Something went wrong on our side; it has been logged.")


def json_error(status: int, detail: str, **headers: str) -> HttpResponse:
    """A JSON error outside ninja's operations (unknown paths, wrong methods)."""
    response = HttpResponse(
        json.dumps({"detail": detail}).translate(_UNSAFE),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in headers.items():
        response[name] = value
    return response
