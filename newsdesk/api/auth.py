"""Who is calling, and how often: bearer tokens and per-token / per-address limits.

Every operation runs one of two authenticators:

- `token_required` (writes, `/me`): a valid `Authorization: Bearer <token>` or 401;
- `token_optional` (reads): anonymous callers are welcome, but a token that is sent must
  be valid (a wrong token is a 401, never silently ignored). Other Authorization schemes
  (Basic auth of a password-protected deployment) are not ours and read anonymously.

Both count the request against a fixed-window limit in the rate-limit cache
(newsdesk/accounts/ratelimit.py): per token when one is sent, per client address
otherwise. Over the limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from newsdesk.accounts import ratelimit
from newsdesk.api.models import TOKEN_PREFIX, ApiToken, hash_token
from newsdesk.lazy_writes import after_response

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=5)
MAX_TOKEN_CHARS = 200

HOW_TO = "Send 'Authorization: Bearer <token>'; an administrator creates tokens with `newsdesk api-token USERNAME` or in the admin."


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: int, window: int) -> None:
        self.retry_after = retry_after
        self.limit = limit
        self.window = window
        super().__init__(f"rate limit of {limit} requests per {window} s exceeded")


class TokenError(AuthenticationError):
    """401 with a message saying what to do; `invalid` marks a token that was sent but is bad."""

    def __init__(self, message: str, *, invalid: bool = False) -> None:
        self.invalid = invalid
        super().__init__(401, message)


class Anonymous:
    """`request.auth` for callers without a token (truthy, so ninja lets them in)."""

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "<anonymous API caller>"


ANONYMOUS = Anonymous()


def anonymous_rule() -> ratelimit.Rule:
    return ratelimit.Rule(
        "api-ip",
        settings.NEWSDESK_API_ANON_PER_MINUTE,
        settings.NEWSDESK_API_RATE_WINDOW,
    )


def token_rule() -> ratelimit.Rule:
    return ratelimit.Rule(
        "api-token",
        settings.NEWSDESK_API_TOKEN_PER_MINUTE,
        settings.NEWSDESK_API_RATE_WINDOW,
    )


def count_request(rule: ratelimit.Rule, ident: str) -> None:
    """Count one request; raise RateLimited when it is over the limit."""
    if ratelimit.hit(rule, ident) > rule.limit:
        wait = ratelimit.retry_after(rule, ident) or rule.window
        raise RateLimited(wait, rule.limit, rule.window)


def find_token(secret: str, request: HttpRequest | None = None) -> ApiToken | None:
    """The usable token with this secret; its last use is noted (to the minute), after
    the response when there is one."""
    if not secret or len(secret) > MAX_TOKEN_CHARS:
        return None
    token = ApiToken.objects.usable().select_related("user").filter(key_hash=hash_token(secret)).first()
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
            pk = token.pk

            def note() -> None:
                ApiToken.objects.filter(pk=pk).update(last_used_at=now)

            after_response(request, note)
            token.last_used_at = now
    return token


class TokenAuth(HttpBearer):
    """Bearer tokens (see newsdesk/api/models.py). One class for both modes, so the
    OpenAPI schema has one security scheme, `TokenAuth`."""

    openapi_bearerFormat = "nd_<43 characters>"
    openapi_description = "A newsdesk API token: `newsdesk api-token USERNAME` or the admin. Optional for reads."

    def __init__(self, *, optional: bool) -> None:
        super().__init__()
        self.optional = optional

    def __call__(self, request: HttpRequest) -> ApiToken | Anonymous:
        header = request.headers.get(self.header, "").strip()
        if not header:
            if not self.optional:
                raise TokenError(f"This needs an API token. {HOW_TO}")
            count_request(anonymous_rule(), ratelimit.client_ip(request))
            return ANONYMOUS
        scheme, _, secret = header.partition(" ")
        if scheme.lower() == "bearer" and secret.strip():
            return self.authenticate(request, secret.strip())
        if self.optional and scheme.lower() not in {"bearer", "token"} and not header.startswith(TOKEN_PREFIX):
            # Another scheme (e.g. Basic auth of a password-protected deployment) is not
            # meant for us: read anonymously.
            count_request(anonymous_rule(), ratelimit.client_ip(request))
            return ANONYMOUS
        count_request(anonymous_rule(), ratelimit.client_ip(request))
        raise TokenError(f"Unsupported Authorization header. {HOW_TO}", invalid=True)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = find_token(token, request)
        if found is None:
            # Bad tokens count against the address, so guessing is as slow as browsing.
            count_request(anonymous_rule(), ratelimit.client_ip(request))
            raise TokenError("The API token is not valid: it is wrong, expired or revoked.", invalid=True)
        count_request(token_rule(), f"token:{found.pk}")
        return found


token_required = TokenAuth(optional=False)
token_optional = TokenAuth(optional=True)


def caller(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    """The user behind the request's token, or AnonymousUser (sessions are ignored)."""
    auth = getattr(request, "auth", None)
    return auth.user if isinstance(auth, ApiToken) else AnonymousUser()


def is_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_active", False) and (user.is_staff or user.is_superuser))
