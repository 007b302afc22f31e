"""Who is calling the Fever API, and how often.

Every request carries `api_key`, md5("username:app password"), as a POSTed form field
(url-encoded, or multipart as FreshRSS's documentation shows it with `curl -F`); the
query string is read too, as Miniflux does, for the apps that put it there. The key is
looked up by its SHA-256 (app_passwords.py). A wrong or missing key answers what both
servers answer, HTTP 200 with `{"api_version":3,"auth":0}`, since that is what the apps
recognise; wrong keys count against the caller's address at the API's anonymous rate,
and a right key counts against its app password's budget, the one the Google Reader
API spends too (reader/limits.py). CSRF does not apply: the api_key is the credential,
and a page on another site cannot know it. Every answer is `private, no-store`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from newsdesk.accounts import ratelimit
from newsdesk.reader import app_passwords

View = Callable[..., HttpResponse]
API_VERSION = 3
METHODS = ("GET", "HEAD", "POST")


def json_response(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


def not_authenticated() -> JsonResponse:
    return json_response({"api_version": API_VERSION, "auth": 0})


def too_many(wait: int) -> JsonResponse:
    response = json_response({"api_version": API_VERSION, "auth": 0, "error": "too many requests"}, status=429)
    response["Retry-After"] = str(wait)
    return response


def bad_keys_rule() -> ratelimit.Rule:
    return ratelimit.Rule("fever-bad-keys", settings.NEWSDESK_API_ANON_PER_MINUTE, settings.NEWSDESK_API_RATE_WINDOW)


def api_key(request: HttpRequest) -> str:
    return request.POST.get("api_key", "") or request.GET.get("api_key", "")


def authenticated(view: View) -> View:
    """The view runs with request.app_password and request.user set, or the caller gets
    `auth: 0`; 405 for methods other than GET and POST, 429 over a limit."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in METHODS:
            return HttpResponse("Method Not Allowed", status=405, headers={"Allow": ", ".join(METHODS)})
        ip = ratelimit.client_ip(request)
        if wait := ratelimit.retry_after(bad_keys_rule(), ip):
            return too_many(wait)
        row = app_passwords.from_fever_key(api_key(request)[:128])
        if row is None:
            ratelimit.hit(bad_keys_rule(), ip)
            return not_authenticated()
        if wait := app_passwords.admit(request, row):
            return too_many(wait)
        return view(request, *args, **kwargs)

    return csrf_exempt(never_cache(wrapper))
