"""Signed values in links: the private feed's address and the unsubscribe link.

Both are signed with the site's SECRET_KEY (django.core.signing), so nothing secret is
stored: a feed address is the reader's id and feed version, signed; a new address raises
the version, which ends every older one. An unsubscribe link names the reader and what
to stop (briefing or alerts), signed, and works without signing in, from any mail
client, for as long as the key stays the same. Changing NEWSDESK_SECRET_KEY ends both.
"""

from __future__ import annotations

from django.core import signing

FEED_SALT = "newsdesk.briefings.feed"
UNSUBSCRIBE_SALT = "newsdesk.briefings.unsubscribe"
KINDS = ("briefing", "alerts")


def feed_token(user_id: int, version: int) -> str:
    return signing.Signer(salt=FEED_SALT, sep=".").sign(f"{user_id}.{version}")


def read_feed_token(token: str) -> tuple[int, int] | None:
    """(user id, feed version), or None when the token is not one of ours."""
    try:
        value = signing.Signer(salt=FEED_SALT, sep=".").unsign(token)
    except signing.BadSignature:
        return None
    user, _, version = value.partition(".")
    if not (user.isdigit() and version.isdigit()):
        return None
    return int(user), int(version)


def unsubscribe_token(user_id: int, kind: str) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT, sep=".").sign(f"{user_id}.{kind}")


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT, sep=".").unsign(token)
    except signing.BadSignature:
        return None
    user, _, kind = value.partition(".")
    if not user.isdigit() or kind not in KINDS:
        return None
    return int(user), kind
