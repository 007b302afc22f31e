"""How often a reader may change their follows, saves and read state from the site.

A fixed-window counter per account in the rate-limit cache (the same counters as the
login limits, newsdesk/accounts/ratelimit.py): generous for a person clicking, a stop
for a script flooding the tables. Reader apps are counted per app password instead
(greader/auth.py), at the API's per-token rate, one budget per app password whichever API (Google Reader or
Fever) it calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from newsdesk.accounts import ratelimit

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from newsdesk.reader.models import AppPassword


def actions_rule() -> ratelimit.Rule:
    return ratelimit.Rule("reader-actions", settings.NEWSDESK_READER_ACTIONS_PER_MINUTE, 60)


def action_wait(user: AbstractBaseUser) -> int:
    """Count one change by `user`; the seconds they must wait when over the limit, else 0."""
    rule, ident = actions_rule(), str(user.pk)
    if wait := ratelimit.retry_after(rule, ident):
        return wait
    ratelimit.hit(rule, ident)
    return 0


def app_calls_rule() -> ratelimit.Rule:
    return ratelimit.Rule("reader-app-calls", settings.NEWSDESK_API_TOKEN_PER_MINUTE, settings.NEWSDESK_API_RATE_WINDOW)


def app_call_wait(row: AppPassword) -> int:
    """Count one reader-app call made with `row`; the seconds to wait when over, else 0."""
    rule, ident = app_calls_rule(), str(row.pk)
    if wait := ratelimit.retry_after(rule, ident):
        return wait
    ratelimit.hit(rule, ident)
    return 0
