"""Bits every endpoint module shares: error responses, id parameters, 404s."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from ninja import Path
from ninja.errors import HttpError, ValidationError

from newsdesk.api.schemas import Error

MAX_ID = 2**63 - 1  # the database's integer range; larger ids cannot exist

# Security alternatives: anonymous ({}) or a token. Added to reads so the schema says
# that the token is optional there.
OPTIONAL_TOKEN: dict[str, list[dict[str, list[str]]]] = {"security": [{}]}


def errors(*codes: int) -> dict:
    """Error responses an operation documents; 401, 422 and 429 can happen anywhere."""
    return {code: Error for code in sorted({401, 422, 429, *codes})}


def id_param(what: str) -> Any:
    # ninja's parameter marker, typed Any as ninja types it, to stand as an int's default
    return Path(..., ge=1, le=MAX_ID, description=f"the {what}'s id")


def not_found(message: str) -> Http404:
    return Http404(message)


def forbidden(message: str) -> HttpError:
    return HttpError(403, message)


def conflict(message: str) -> HttpError:
    return HttpError(409, message)


def invalid(loc: list, message: str, kind: str = "value_error") -> ValidationError:
    return ValidationError([{"loc": loc, "msg": message, "type": kind}])
