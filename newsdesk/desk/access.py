"""Who may use the desk: staff (Django's is_staff) for sources, any signed-in reader for
suggestions. Pages are `private, no-store` (the reader's `_signed_in`); changes are
POSTs with CSRF under the reader's action limit (the reader's `_change`), which also
bounds how many previews (each one fetches) a staff account can start a minute."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from newsdesk.reader.views import _change, _signed_in

View = Callable[..., HttpResponse]


def is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def _staff_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff(request.user):
            return render(request, "desk/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def staff_page(view: View) -> View:
    """A GET page for staff: anonymous readers are sent to log in, others get 403."""
    return require_safe(_signed_in(_staff_only(view)))


def staff_change(view: View) -> View:
    """A staff POST: signed in, staff, under the action limit."""
    return _change(_staff_only(view))


reader_page = _signed_in
reader_change = _change
