"""`newsdesk api-token USERNAME`: issue an API token (printed once), list or revoke them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from newsdesk.api.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print it (only its hash is stored, so it is "
        "shown this once). --list shows the user's tokens; --revoke PREFIX revokes one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument("--expires-days", type=float, default=None, help="expire after this many days")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--list", action="store_true", dest="list_tokens", help="list the user's tokens")
        group.add_argument("--revoke", metavar="PREFIX", help="revoke the token starting with PREFIX")

    def handle(
        self,
        *args: Any,
        username: str,
        name: str,
        expires_days: float | None,
        list_tokens: bool,
        revoke: str | None,
        **options: Any,
    ) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None

        if list_tokens:
            for token in ApiToken.objects.filter(user=user):
                state = "revoked" if token.revoked_at else ("active" if token.is_usable else "expired")
                used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}  {state:8}  last used {used}  {token.name}")
            return

        if revoke:
            tokens = ApiToken.objects.filter(user=user, prefix__startswith=revoke, revoked_at__isnull=True)
            count = tokens.count()
            if count != 1:
                raise CommandError(
                    f"{count} active tokens of {username} start with {revoke!r}; give a longer prefix"
                    if count
                    else f"no active token of {username} starts with {revoke!r}"
                )
            tokens.get().revoke()
            self.stderr.write(f"revoked {revoke}…")
            return

        if not user.is_active:
            raise CommandError(f"{username} is not active; an inactive user's tokens do not work")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, secret = ApiToken.issue(user, name, expires_at=expires_at)
        # The secret alone on stdout, so that `newsdesk api-token alice > token` works.
        self.stdout.write(secret)
        self.stderr.write(
            f"API token {token.prefix}… for {username}"
            + (f", expires {expires_at:%Y-%m-%d %H:%M %Z}" if expires_at else "")
            + ". Send it as 'Authorization: Bearer <token>'; it will not be shown again."
        )
