"""App passwords: created here, shown once, stored as Django password hashes.

A reader app signs in once (ClientLogin) with the username and an app password, which
costs one Argon2 check per app password of that user; every later request carries a
token derived from the app password's row (an HMAC of its id and hash under the
SECRET_KEY), so it is checked with one indexed read and no hashing, and dies with the
row when the reader revokes the password.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from newsdesk.reader.models import AppPassword

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=5)
MAX_PER_USER = 20


def create(user: AbstractBaseUser, name: str) -> tuple[AppPassword, str]:
    """A new app password for `user`: the row, and the plain password to show once."""
    plain = "-".join(secrets.token_hex(3) for _ in range(4))  # 24 hex digits, easy to type on a phone
    row = AppPassword.objects.create(user=user, name=name.strip()[:100] or "reader app", password=make_password(plain))
    return row, plain


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
        AppPassword.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
