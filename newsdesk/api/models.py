"""API tokens: a secret shown once, stored only as its SHA-256.

A token is `nd_` followed by 43 URL-safe characters (256 random bits), sent as
`Authorization: Bearer nd_...`. Only the hash is kept, so a leaked database does not
leak working tokens; the first characters (`prefix`) are kept in clear to tell tokens
apart in the admin and in `newsdesk api-token --list`. A fast hash is enough here: the
secret is random, not a password, so there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

TOKEN_PREFIX = "nd_"
SHOWN_CHARS = 10  # "nd_" and 7 characters of the secret: enough to recognise, useless to attack


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="what the token is for")
    prefix = models.CharField(max_length=SHOWN_CHARS, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="empty: never expires")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        label = f" ({self.name})" if self.name else ""
        return f"{self.prefix}… of {self.user}{label}"

    @classmethod
    def issue(
        cls, user: AbstractBaseUser, name: str = "", *, expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """A new token for `user` and its secret, which exists nowhere else afterwards."""
        token = cls(user=user, name=name, expires_at=expires_at)
        secret = token.set_secret()
        token.save()
        return token, secret

    def set_secret(self) -> str:
        """Give this (unsaved or existing) token a new secret and return it."""
        secret = new_secret()
        self.key_hash = hash_token(secret)
        self.prefix = secret[:SHOWN_CHARS]
        return secret

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None or not self.user.is_active:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
