"""limit/offset pages with links to their neighbours."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query

DEFAULT_LIMIT = 20
MAX_LIMIT = settings.NEWSDESK_API_MAX_PAGE_SIZE  # read once: the schema is built at import
# Deep offsets cost as much as reading everything before them; nobody pages that far.
MAX_OFFSET = 10_000


def limit_param(default: int = DEFAULT_LIMIT) -> Any:
    return Query(default, ge=1, le=MAX_LIMIT, description=f"items per page, at most {MAX_LIMIT}")


def offset_param(maximum: int = MAX_OFFSET) -> Any:
    return Query(0, ge=0, le=maximum, description=f"items to skip, at most {maximum:,}")


def _link(request: HttpRequest, offset: int) -> str:
    query = request.GET.copy()
    query["offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def page(
    request: HttpRequest,
    items: list,
    *,
    count: int,
    limit: int,
    offset: int,
    max_offset: int = MAX_OFFSET,
) -> dict:
    following = offset + limit
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "next": _link(request, following) if following < count and following <= max_offset else None,
        "previous": _link(request, max(0, offset - limit)) if offset > 0 else None,
        "items": items,
    }
