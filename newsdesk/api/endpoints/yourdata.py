"""The token's reader's own data as one JSON document: what /reading/data/ downloads.

The document is built by newsdesk/reader/yourdata.py for both; the schema here documents
it. `other` holds rows of any other model that belongs to the account (API tokens,
source suggestions, whatever an app adds later), by model label.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from newsdesk.api.auth import token_required
from newsdesk.api.endpoints.common import errors
from newsdesk.reader import yourdata

router = Router(tags=["your data"])


class ExportArticle(Schema):
    id: int
    title: str
    url: str = Field(description="the article on the publisher's site")
    page: str = Field(description="the article's path on this site")
    source: str = Field(description="the source's slug")
    published_at: datetime | None


class ExportAccount(Schema):
    username: str
    email: str
    first_name: str
    last_name: str
    date_joined: datetime | None
    last_login: datetime | None
    staff: bool
    blocked_from_commenting: bool


class ExportSettings(Schema):
    keep_history: bool


class ExportFollow(Schema):
    source: str = Field(description="the source's slug")
    name: str
    home_url: str
    feed_url: str = Field(description="its first enabled feed; empty when it has none")
    category: str = Field(description="the reader's folder")
    followed_at: datetime | None
    read_before: datetime | None


class ExportInterest(Schema):
    kind: str = Field(description="source, hashtag, section, story, search or word")
    key: str
    label: str
    muted: bool
    created_at: datetime | None
    seen_at: datetime | None


class ExportSaved(Schema):
    article: ExportArticle
    note: str
    saved_at: datetime | None


class ExportHistory(Schema):
    article: ExportArticle
    opened_at: datetime | None


class ExportReadMark(Schema):
    article_id: int
    url: str
    is_read: bool
    changed_at: datetime | None


class ExportComment(Schema):
    id: int
    article: ExportArticle
    parent_id: int | None
    body: str
    status: str
    created_at: datetime | None
    edited_at: datetime | None


class ExportReport(Schema):
    comment_id: int
    reason: str
    details: str
    created_at: datetime | None
    resolved: bool


class ExportAppPassword(Schema):
    name: str
    created_at: datetime | None
    last_used_at: datetime | None


class ExportOut(Schema):
    format: str = Field(description=f'always "{yourdata.FORMAT}"')
    version: int
    exported_at: datetime
    account: ExportAccount
    settings: ExportSettings
    follows: list[ExportFollow]
    interests: list[ExportInterest] = Field(
        description="followed and muted hashtags, sections, stories, searches, words"
    )
    saved: list[ExportSaved]
    history: list[ExportHistory]
    read_marks: list[ExportReadMark]
    comments: list[ExportComment]
    comment_reports: list[ExportReport]
    app_passwords: list[ExportAppPassword] = Field(description="names and dates only, never a password")
    other: dict[str, list[dict[str, Any]]] = Field(
        description="rows of other models that belong to the account, by model label (secrets left out)"
    )


@router.get("/me/export", auth=token_required, response={200: ExportOut, **errors()})
def export_my_data(request: HttpRequest) -> dict:
    """Everything the token's reader made: follows, interests and mutes, saved items,
    history, read marks, comments, reports, settings (the JSON of /reading/data/)."""
    return yourdata.export(request.auth.user)
