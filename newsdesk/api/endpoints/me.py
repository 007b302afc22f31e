"""Who the token belongs to: a cheap way for a client to check its token."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from newsdesk.api.auth import is_staff, token_required
from newsdesk.api.endpoints.common import errors
from newsdesk.api.schemas import MeOut
from newsdesk.comments.moderation import can_moderate

router = Router(tags=["tokens"])


@router.get("/me", auth=token_required, response={200: MeOut, **errors()})
def me(request: HttpRequest) -> dict:
    """The token's user and what it may do."""
    token = request.auth
    return {
        "username": token.user.get_username(),
        "is_staff": is_staff(token.user),
        "can_moderate": can_moderate(token.user),
        "token": {
            "prefix": token.prefix,
            "name": token.name,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
        },
    }
