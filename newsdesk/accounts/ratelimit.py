"""Fixed-window counters in Django's cache, for logins, sign-ups and reset mails.

Failed logins are counted three ways, so that guessing is slow and nobody else's
failures can lock the owner out of an account:

- per client address and username (5 per 15 minutes): that address may then try no
  more passwords for that username until the window ends (429);
- per client address (20 per 15 minutes, for offices behind one NAT): that address may
  then try no username at all (429) -- this stops one address spraying many accounts;
- per username from every address (10 per 15 minutes, NEWSDESK_LOGIN_SLOWDOWN_AFTER):
  past that each attempt on the account waits before its password is checked, doubling
  from 0.25 s up to NEWSDESK_LOGIN_MAX_DELAY (1 s), but is never refused. A lock per
  username would let anyone who knows a username shut its owner out (five wrong
  passwords did, for 15 minutes); the delay only slows many addresses guessing one
  account, each of which is capped by the first two limits anyway.

"Client address" is client_ip(): the socket address, or behind NEWSDESK_PROXY_COUNT
proxies the address they report, an IPv6 client counted as its /64.

The counters live in the cache rather than the database so that a flood of failed
logins costs no writes; with a shared cache (Redis, Memcached, or the database cache)
every web process sees the same counts. With the default per-process memory cache each
process counts on its own, so the effective limit is multiplied by the process count.

A window opens on the first hit and lasts `window` seconds; when `limit` hits fall in
it, the key is refused until the window closes. That is coarser than a sliding window
but needs only two cache keys and atomic `incr` (atomic on Redis, Memcached and the
memory cache; best effort on the database and file caches).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest


@dataclass(frozen=True)
class Rule:
    scope: str
    limit: int
    window: int  # seconds


def _cache() -> BaseCache:
    return caches[settings.NEWSDESK_RATELIMIT_CACHE]


def _key(rule: Rule, ident: str) -> str:
    # Hashed so that any username or address makes a valid, bounded cache key.
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"newsdesk:rl:{rule.scope}:{digest}"


def hit(rule: Rule, ident: str) -> int:
    """Count one event for `ident`; return the count in the current window. The counter
    is incremented first and the window opened only when there is none: on the database
    cache every call costs a transaction, and an API client polling its counts pays
    this on every request."""
    cache, key = _cache(), _key(rule, ident)
    try:
        return cache.incr(key)
    except ValueError:  # no window open: open one
        pass
    cache.add(f"{key}:until", time.time() + rule.window, rule.window)
    if cache.add(key, 1, rule.window):
        return 1
    try:  # another process opened it meanwhile
        return cache.incr(key)
    except ValueError:  # and it expired since
        cache.set(key, 1, rule.window)
        return 1


def retry_after(rule: Rule, ident: str) -> int:
    """Seconds until `ident` may act again under `rule`; 0 when it may act now."""
    cache, key = _cache(), _key(rule, ident)
    if (cache.get(key) or 0) < rule.limit:
        return 0
    until = cache.get(f"{key}:until")
    return max(1, math.ceil(until - time.time())) if until else 0


def reset(rule: Rule, ident: str) -> None:
    key = _key(rule, ident)
    _cache().delete_many([key, f"{key}:until"])


def wait_text(seconds: int) -> str:
    """'1 minute', '15 minutes', '2 hours': what a person needs to know, rounded up."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"


def client_ip(request: HttpRequest) -> str:
    """The address to count against, as a network for IPv6 (one host gets a /64).

    Behind N reverse proxies (NEWSDESK_PROXY_COUNT = N) the client is the Nth address
    from the right of X-Forwarded-For; the left-hand entries are client-supplied and
    must not be trusted.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NEWSDESK_PROXY_COUNT
    if proxies > 0:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= proxies:
            address = chain[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def login_client_user_rule() -> Rule:
    """Failures of one address on one username; identify with client_user()."""
    return Rule(
        "login-client-user",
        settings.NEWSDESK_LOGIN_FAILURES_PER_USER,
        settings.NEWSDESK_LOGIN_WINDOW,
    )


def client_user(ip: str, username: str) -> str:
    return f"{ip} {username}"


def login_user_rule() -> Rule:
    """Failures on one username from anywhere: past the limit, a delay, never a lock."""
    return Rule(
        "login-user",
        settings.NEWSDESK_LOGIN_SLOWDOWN_AFTER,
        settings.NEWSDESK_LOGIN_WINDOW,
    )


def failures(rule: Rule, ident: str) -> int:
    """Events counted for `ident` in the current window."""
    return _cache().get(_key(rule, ident)) or 0


def login_delay(username: str) -> float:
    """Seconds an attempt on `username` waits before its password is checked: 0 below
    login_user_rule's limit, then doubling from 0.25 s up to NEWSDESK_LOGIN_MAX_DELAY."""
    rule = login_user_rule()
    over = failures(rule, username) - rule.limit
    if over < 0:
        return 0.0
    return min(settings.NEWSDESK_LOGIN_MAX_DELAY, 0.25 * 2 ** min(over, 16))


def pause(seconds: float) -> None:
    """time.sleep, as a module function that tests can replace."""
    time.sleep(seconds)


def login_ip_rule() -> Rule:
    # Higher than the per-user limit: many readers may share one address (offices, NAT).
    return Rule(
        "login-ip",
        settings.NEWSDESK_LOGIN_FAILURES_PER_IP,
        settings.NEWSDESK_LOGIN_WINDOW,
    )


def signup_ip_rule() -> Rule:
    return Rule("signup-ip", settings.NEWSDESK_SIGNUPS_PER_IP_PER_HOUR, 3600)


def reset_ip_rule() -> Rule:
    return Rule("reset-ip", settings.NEWSDESK_PASSWORD_RESETS_PER_IP_PER_HOUR, 3600)


def reset_email_rule() -> Rule:
    return Rule("reset-email", settings.NEWSDESK_PASSWORD_RESETS_PER_EMAIL_PER_HOUR, 3600)
