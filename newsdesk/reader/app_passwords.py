"""App passwords: created here, shown once, stored as Django password hashes.

A reader app signs in once (ClientLogin) with the username and an app password, which
costs one Argon2 check per app password of that user; every later request carries a
token derived from the app password's row (an HMAC of its id and hash under the
SECRET_KEY), so it is checked with one indexed read and no hashing, and dies with the
row when the reader revokes the password.

The Fever API (fever/) has no login step: every request carries `api_key`, the md5 of
"username:password", and that hash is as good as the password to whoever holds it.
Django's Argon2 hash cannot be checked against an md5, and keeping the plain password
(as the key's input) is what hashing at rest is meant to avoid, so the key is derived
once, when the app password is created and its plain text is at hand, and only a
SHA-256 of the key is stored (`fever_key`): a request's key is found with one indexed
equality and no slow hash. A fast hash is enough here because the input is not a
human password but 96 random bits, which no dictionary holds and no search reaches;
a stolen table yields neither the password nor a usable key. The trade-offs: the key
depends on the username, so renaming the account ends the Fever access of its app
passwords (Fever apps sign in with "username:password" too, so they need re-entering
anyway); app passwords made before the Fever API existed have no key (make a new
one); and md5 offers no protection in transit, so the key, like the password, needs
HTTPS (as FreshRSS's and Miniflux's per-user Fever keys do).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from newsdesk.lazy_writes import lazy_commit
from newsdesk.reader import limits
from newsdesk.reader.models import AppPassword

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=5)
MAX_PER_USER = 20


def create(user: AbstractBaseUser, name: str) -> tuple[AppPassword, str]:
    """A new app password for `user`: the row, and the plain password to show once."""
    plain = "-".join(secrets.token_hex(3) for _ in range(4))  # 24 hex digits, easy to type on a phone
    row = AppPassword.objects.create(
        user=user,
        name=name.strip()[:100] or "reader app",
        password=make_password(plain),
        fever_key=fever_key_digest(fever_api_key(user.get_username(), plain)),
    )
    return row, plain


def fever_api_key(username: str, plain: str) -> str:
    """What a Fever app sends as `api_key`: md5 of "username:password", in hex."""
    return hashlib.md5(f"{username}:{plain}".encode(), usedforsecurity=False).hexdigest()


def fever_key_digest(api_key: str) -> str:
    """What is stored of a Fever key, and what a request's key is looked up by."""
    return hashlib.sha256(api_key.strip().lower().encode()).hexdigest()


def from_fever_key(api_key: str) -> AppPassword | None:
    """The app password whose Fever key this is (any case, as apps may send upper-case
    hex), or None: for an active user, and never for an empty or malformed key."""
    key = api_key.strip().lower()
    if len(key) != 32 or any(c not in "0123456789abcdef" for c in key):
        return None
    row = AppPassword.objects.select_related("user").filter(fever_key=fever_key_digest(key)).first()
    if row is None or not row.user.is_active:
        return None
    return row


def revoke(user: AbstractBaseUser, pk: int) -> None:
    AppPassword.objects.filter(user=user, pk=pk).delete()


def check(username: str, plain: str) -> AppPassword | None:
    """The app password of `username` that `plain` is, or None."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not plain:
        make_password(plain)  # the same work as a real check, so timing tells nothing
        return None
    rows = list(AppPassword.objects.filter(user=user).order_by("-pk")[:MAX_PER_USER])
    for row in rows:
        if check_password(plain, row.password):
            return row
    if not rows:
        make_password(plain)  # nor whether this user has app passwords at all
    return None


def _signature(row: AppPassword, purpose: str) -> str:
    return salted_hmac(f"newsdesk.reader.{purpose}", f"{row.pk}:{row.password}", algorithm="sha256").hexdigest()


def auth_token(row: AppPassword) -> str:
    """What ClientLogin answers: `username/id/signature`, the same for every login."""
    return f"{row.user.get_username()}/{row.pk}/{_signature(row, 'auth')[:40]}"


def edit_token(row: AppPassword) -> str:
    """The 57-character token /token hands out for POSTs (the T parameter)."""
    return _signature(row, "edit")[:57]


def from_auth_token(token: str) -> AppPassword | None:
    parts = token.strip().split("/")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 18:
        return None
    username, pk, signature = parts
    row = AppPassword.objects.select_related("user").filter(pk=int(pk)).first()
    if row is None or not row.user.is_active or row.user.get_username() != username:
        return None
    if not constant_time_compare(signature, _signature(row, "auth")[:40]):
        return None
    return row


def touch(row: AppPassword) -> None:
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        with lazy_commit():
            AppPassword.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now


def admit(request: HttpRequest, row: AppPassword) -> int:
    """Count a reader app's call on `row`'s budget (one for both APIs): 0, and the request
    is its reader's from here on; else the seconds the app must wait."""
    if wait := limits.app_call_wait(row):
        return wait
    touch(row)
    request.app_password = row
    request.user = row.user
    return 0
