"""Who is calling the Google Reader API, and how often.

ClientLogin trades a username and an app password for a token (app_passwords.py); the
other calls send it as `Authorization: GoogleLogin auth=<token>` (or, for the few apps
that do, `?auth=` or an `auth=` form field). Logins count against the site's login
limits (newsdesk/accounts/ratelimit.py), so an app is no door around them; calls count
per app password at the API's per-token rate (reader/limits.py, one budget shared with
the Fever API). The POST calls are exempt from CSRF: a browser cannot send the
Authorization header to another site, and when a POST carries the `T` edit token (from
/token) it must be the right one, as FreshRSS checks.
Every answer is `private, no-store`: nothing here may enter a shared cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from newsdesk.accounts import ratelimit
from newsdesk.reader import app_passwords
from newsdesk.reader.greader.forms import TooManyFields, form
from newsdesk.reader.models import AppPassword

View = Callable[..., HttpResponse]


def unauthorized() -> HttpResponse:
    response = HttpResponse("Unauthorized!", status=401, content_type="text/plain; charset=utf-8")
    response["Google-Bad-Token"] = "true"
    response["X-Reader-Google-Bad-Token"] = "true"
    return response


def too_many(wait: int) -> HttpResponse:
    response = HttpResponse("Too Many Requests", status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


def _token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "googlelogin":
        key, _, value = rest.strip().partition("=")
        if key.strip().lower() == "auth":
            return value.strip()
    return request.GET.get("auth", "") or form(request).get("auth", "")


def authenticated(methods: tuple[str, ...]) -> Callable[[View], View]:
    """The view runs with `request.app_password` (and request.user) set, or the
    caller gets 401; 405 for other methods, 429 over the call limit."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return HttpResponse("Method Not Allowed", status=405, headers={"Allow": ", ".join(methods)})
            try:
                form(request)
            except TooManyFields:
                return HttpResponse("Too many fields", status=400, content_type="text/plain; charset=utf-8")
            row = app_passwords.from_auth_token(_token(request))
            if row is None:
                return unauthorized()
            edit_token = form(request).get("T")
            if edit_token is not None and not constant_time_compare(edit_token, app_passwords.edit_token(row)):
                return unauthorized()
            if wait := app_passwords.admit(request, row):
                return too_many(wait)
            return view(request, *args, **kwargs)

        return csrf_exempt(never_cache(wrapper))

    return decorate


def login_refused(request: HttpRequest, username: str) -> int:
    """Seconds this address must wait before trying `username` again, 0 if it may."""
    ip = ratelimit.client_ip(request)
    rules = [
        (ratelimit.login_client_user_rule(), ratelimit.client_user(ip, username)),
        (ratelimit.login_ip_rule(), ip),
    ]
    return max(ratelimit.retry_after(rule, ident) for rule, ident in rules)


def login_failed(request: HttpRequest, username: str) -> None:
    ip = ratelimit.client_ip(request)
    for rule, ident in [
        (ratelimit.login_client_user_rule(), ratelimit.client_user(ip, username)),
        (ratelimit.login_ip_rule(), ip),
        (ratelimit.login_user_rule(), username),
    ]:
        ratelimit.hit(rule, ident)


def client_login(request: HttpRequest, username: str, password: str) -> AppPassword | None | int:
    """The app password, None when wrong, or the seconds to wait when refused."""
    key = username.strip().lower()[:150]
    if wait := login_refused(request, key):
        return wait
    if delay := ratelimit.login_delay(key):
        ratelimit.pause(delay)
    row = app_passwords.check(username.strip(), password)
    if row is None:
        login_failed(request, key)
        return login_refused(request, key) or None
    return row
