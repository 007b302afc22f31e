"""The "Your data" page: take follows away as OPML and everything as JSON, or delete the
account (the logic is yourdata.py).

Downloads are GETs (they change nothing) counted against the reader's action limit,
since an export reads every row the reader has. Deleting is a POST with CSRF under the
same limit, asks for the password again (wrong guesses are counted as failed logins
are, so a borrowed session cannot guess it), and refuses a superuser, whom another
administrator removes in the admin. Every page here is `private, no-store`.
"""

from __future__ import annotations

import json

from django.contrib.auth import logout
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_safe

from newsdesk.accounts import ratelimit
from newsdesk.reader import yourdata
from newsdesk.reader.limits import action_wait
from newsdesk.reader.views import _change, _signed_in

TEMPLATE = "reader/yourdata/page.html"


def _limited(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "reader/limited.html", {"wait": ratelimit.wait_text(wait)}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _filename(request: HttpRequest, what: str, extension: str) -> str:
    name = slugify(request.user.get_username()) or "reader"
    return f"newsdesk-{name}-{what}-{timezone.now():%Y-%m-%d}.{extension}"


def _page(request: HttpRequest, *, status: int = 200, errors: dict | None = None, choice: str = "") -> HttpResponse:
    context = {
        "counts": yourdata.counts(request.user),
        "errors": errors or {},
        "choice": choice,
        "choices": {choice.name: choice.value for choice in yourdata.CommentChoice},
        "superuser": request.user.is_superuser,
        "api_path": "/api/me/export",
    }
    return render(request, TEMPLATE, context, status=status)


@require_safe
@_signed_in
def page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_safe
@_signed_in
def follows_opml(request: HttpRequest) -> HttpResponse:
    if wait := action_wait(request.user):
        return _limited(request, wait)
    body = yourdata.follows_opml(request.user, request.build_absolute_uri("/"))
    return _download(body, "text/x-opml; charset=utf-8", _filename(request, "follows", "opml"))


@require_safe
@_signed_in
def export_json(request: HttpRequest) -> HttpResponse:
    if wait := action_wait(request.user):
        return _limited(request, wait)
    body = json.dumps(yourdata.export(request.user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    return _download(body.encode(), "application/json; charset=utf-8", _filename(request, "data", "json"))


@sensitive_post_parameters("password")
@_change
def delete(request: HttpRequest) -> HttpResponse:
    user = request.user
    choice = request.POST.get("comments", "")
    password = request.POST.get("password", "")
    rule = ratelimit.login_client_user_rule()
    ident = ratelimit.client_user(ratelimit.client_ip(request), user.get_username())
    errors: dict[str, str] = {}
    if user.is_superuser:
        errors["account"] = "A superuser's account is deleted by another administrator, in the admin."
    if choice not in set(yourdata.CommentChoice):
        errors["comments"] = "Choose what becomes of your comments."
        choice = ""
    if wait := ratelimit.retry_after(rule, ident):
        errors["password"] = f"Too many wrong passwords. Try again in {ratelimit.wait_text(wait)}."
        response = _page(request, status=429, errors=errors, choice=choice)
        response["Retry-After"] = str(wait)
        return response
    if not password:
        errors["password"] = "Enter your password to confirm."
    elif not user.check_password(password):
        ratelimit.hit(rule, ident)
        errors["password"] = "That is not your password."
    if errors:
        return _page(request, status=400, errors=errors, choice=choice)
    done = yourdata.delete_account(user, yourdata.CommentChoice(choice))
    logout(request)
    outcome = "removed" if choice == yourdata.CommentChoice.REMOVE else "kept"
    return HttpResponseRedirect(
        f"{reverse('yourdata:deleted')}?comments={outcome}&n={done.comments_removed or done.comments_kept}"
    )


@require_safe
@never_cache
def deleted(request: HttpRequest) -> HttpResponse:
    """Said once the account is gone; nothing personal in it but the choice just made."""
    outcome = request.GET.get("comments")
    count = request.GET.get("n", "")
    context = {
        "outcome": outcome if outcome in ("removed", "kept") else "",
        "count": int(count) if count.isdigit() and len(count) < 9 else None,
    }
    return render(request, "reader/yourdata/deleted.html", context)
