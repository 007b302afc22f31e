"""A reader's own data: taken away (OPML and JSON) or deleted with the account.

The JSON export has a part for each kind of thing the reader made (follows, interests,
saved items, history, read marks, comments, reports, app passwords' names, settings) and
`other`: every row of any other model that dies with the account (a CASCADE foreign key
to the user, such as a source suggestion or an API token), found by introspection, so a
model added later is exported without a change here. Secrets (password and token
hashes) are never exported.

Deleting the account removes every personal row: what CASCADEs from the user (reader
state, app passwords, API tokens, reports, profile, suggestions...) and the sessions
that name it. Comments do not cascade (their author is SET_NULL so that replies keep
their parent): the reader chooses whether they are removed (the text erased, as the
author's own delete does, and "[deleted]" kept only where others replied) or kept
anonymised (shown as from "[deleted account]"). Either way the articles' cached pages
are refreshed, since they showed the reader's name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.urls import reverse

from newsdesk.accounts.models import Profile
from newsdesk.comments.models import Comment, Report
from newsdesk.comments.signals import notify
from newsdesk.reader import follows as follow_rules
from newsdesk.reader.models import (
    AppPassword,
    Follow,
    HistoryEntry,
    Interest,
    ReaderSettings,
    ReadMark,
    Saved,
)
from newsdesk.sources.opml import OpmlFeed, build_opml

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from newsdesk.articles.models import Article

FORMAT = "newsdesk-export"
VERSION = 1
# Field names never exported, whichever model they are on: credentials, their hashes and
# the secrets of private links (a file downloaded may travel further than the account).
SECRET_FIELDS = ("password", "hash", "secret", "token", "fever_key", "session_data")
_ENCODER = DjangoJSONEncoder()
_GONE = (Comment.Status.DELETED, Comment.Status.REMOVED)  # comments whose text is gone for good


class CommentChoice(enum.StrEnum):
    REMOVE = "remove"
    ANONYMISE = "anonymise"


# --- export ------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC as Django writes JSON (milliseconds, "Z"): the API's answer, which
    goes through that encoder, is then the same document byte for byte. The time is cut
    to its millisecond first, as the encoder's text is: the API reads the text back and
    writes it again, and a whole second has no fraction there ("22Z", not "22.000Z")."""
    if not value:
        return None
    return _ENCODER.default(value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000))


def _article(article: Article) -> dict[str, Any]:
    return {
        "id": article.pk,
        "title": article.title,
        "url": article.url,
        "page": article.get_absolute_url(),
        "source": article.source.slug,
        "published_at": _time(article.published_at),
    }


def _account(user: AbstractBaseUser) -> dict[str, Any]:
    profile = Profile.objects.filter(user=user).first()
    return {
        "username": user.get_username(),
        "email": getattr(user, "email", "") or "",
        "first_name": getattr(user, "first_name", ""),
        "last_name": getattr(user, "last_name", ""),
        "date_joined": _time(getattr(user, "date_joined", None)),
        "last_login": _time(user.last_login),
        "staff": bool(getattr(user, "is_staff", False)),
        "blocked_from_commenting": bool(profile and profile.is_blocked),
    }


def _settings(user: AbstractBaseUser) -> dict[str, Any]:
    row = ReaderSettings.objects.filter(user=user).first()
    return {"keep_history": row.keep_history if row else ReaderSettings._meta.get_field("keep_history").default}


def _follows(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = Follow.objects.filter(user=user).select_related("source").prefetch_related("source__feeds")
    return [
        {
            "source": row.source.slug,
            "name": row.source.name,
            "home_url": row.source.home_url,
            "feed_url": follow_rules.feed_url(row.source, ""),
            "category": row.category,
            "followed_at": _time(row.created_at),
            "read_before": _time(row.read_before),
        }
        for row in rows.order_by("category", "source__name", "pk")
    ]


def _interests(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = Interest.objects.filter(user=user).order_by("muted", "kind", "key", "pk")
    return [
        {
            "kind": row.kind,
            "key": row.key,
            "label": row.label,
            "muted": row.muted,
            "created_at": _time(row.created_at),
            "seen_at": _time(row.seen_at),
        }
        for row in rows
    ]


def _saved(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = Saved.objects.filter(user=user).select_related("article__source").order_by("-saved_at", "-pk")
    return [{"article": _article(row.article), "note": row.note, "saved_at": _time(row.saved_at)} for row in rows]


def _history(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = HistoryEntry.objects.filter(user=user).select_related("article__source").order_by("-opened_at", "-pk")
    return [{"article": _article(row.article), "opened_at": _time(row.opened_at)} for row in rows]


def _read_marks(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = ReadMark.objects.filter(user=user).select_related("article").order_by("-changed_at", "-pk")
    return [
        {
            "article_id": row.article_id,
            "url": row.article.url,
            "is_read": row.is_read,
            "changed_at": _time(row.changed_at),
        }
        for row in rows
    ]


def _comments(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = Comment.objects.filter(author=user).select_related("article__source").order_by("created_at", "pk")
    return [
        {
            "id": row.pk,
            "article": _article(row.article),
            "parent_id": row.parent_id,
            "body": row.body,
            "status": row.status,
            "created_at": _time(row.created_at),
            "edited_at": _time(row.edited_at),
        }
        for row in rows
    ]


def _reports(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = Report.objects.filter(reporter=user).order_by("created_at", "pk")
    return [
        {
            "comment_id": row.comment_id,
            "reason": row.reason,
            "details": row.details,
            "created_at": _time(row.created_at),
            "resolved": row.resolved,
        }
        for row in rows
    ]


def _app_passwords(user: AbstractBaseUser) -> list[dict[str, Any]]:
    rows = AppPassword.objects.filter(user=user).order_by("created_at", "pk")
    return [
        {"name": row.name, "created_at": _time(row.created_at), "last_used_at": _time(row.last_used_at)} for row in rows
    ]


@dataclass(frozen=True)
class Part:
    """One key of the export; `models` are those it covers, which `other` then skips."""

    name: str
    collect: Callable[[AbstractBaseUser], Any]
    models: tuple[type[models.Model], ...] = ()


PARTS: tuple[Part, ...] = (
    Part("account", _account, (Profile,)),
    Part("settings", _settings, (ReaderSettings,)),
    Part("follows", _follows, (Follow,)),
    Part("interests", _interests, (Interest,)),
    Part("saved", _saved, (Saved,)),
    Part("history", _history, (HistoryEntry,)),
    Part("read_marks", _read_marks, (ReadMark,)),
    Part("comments", _comments, (Comment,)),
    Part("comment_reports", _reports, (Report,)),
    Part("app_passwords", _app_passwords, (AppPassword,)),
)


def owned_models() -> list[tuple[type[models.Model], models.Field]]:
    """Every (model, field) whose rows belong to a user: a foreign key or one-to-one to
    the user model that deletes the row with the user. Rows merely naming a user (a
    moderator's `moderated_by`, SET_NULL) are not the user's data."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            remote = getattr(field, "remote_field", None)
            if (
                isinstance(field, models.ForeignKey)
                and remote is not None
                and remote.model is user_model
                and remote.on_delete is models.CASCADE
            ):
                found.append((model, field))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _time(value)
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _other(user: AbstractBaseUser) -> dict[str, list[dict[str, Any]]]:
    covered = {model for part in PARTS for model in part.models}
    other: dict[str, list[dict[str, Any]]] = {}
    for model, owner in owned_models():
        if model in covered:
            continue
        fields = [
            field
            for field in model._meta.concrete_fields
            if field is not owner and not any(secret in field.name for secret in SECRET_FIELDS)
        ]
        rows = [
            {field.name: _plain(getattr(row, field.attname)) for field in fields}
            for row in model._default_manager.filter(**{owner.name: user}).order_by("pk")
        ]
        if rows:
            other[model._meta.label_lower] = rows
    return other


def export(user: AbstractBaseUser, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything the reader made, as one JSON-ready dict (the same for the page's download
    and the API's GET /api/me/export)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(now or datetime.now(UTC)),
    }
    for part in PARTS:
        data[part.name] = part.collect(user)
    data["other"] = _other(user)
    return data


def follows_opml(user: AbstractBaseUser, site: str) -> bytes:
    """The followed sources as OPML, one outline per source in the reader's folders: the
    publisher's own feed (the one reader apps are given), else this site's feed of it.
    `site` is this site's root URL, for that fallback."""
    rows = (
        Follow.objects.filter(user=user)
        .select_related("source")
        .prefetch_related("source__feeds")
        .order_by("category", "source__name", "pk")
    )
    feeds = []
    for row in rows:
        own = site.rstrip("/") + reverse("source-rss", args=[row.source.slug])
        feeds.append(
            OpmlFeed(
                xml_url=follow_rules.feed_url(row.source, own),
                title=row.source.name,
                html_url=row.source.home_url,
                category=row.category or None,
            )
        )
    return build_opml(feeds, title=f"{user.get_username()}'s follows on newsdesk")


def counts(user: AbstractBaseUser) -> dict[str, int]:
    """How much there is of each kind, for the page that offers the export and deletion."""
    return {
        "follows": Follow.objects.filter(user=user).count(),
        "interests": Interest.objects.filter(user=user).count(),
        "saved": Saved.objects.filter(user=user).count(),
        "history": HistoryEntry.objects.filter(user=user).count(),
        "comments": Comment.objects.filter(author=user).exclude(status__in=_GONE).count(),
        "app_passwords": AppPassword.objects.filter(user=user).count(),
    }


# --- deletion ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Deleted:
    comments_removed: int
    comments_kept: int
    sessions_ended: int
    rows: dict[str, int]  # rows deleted per model label (django's Collector count)


def delete_account(user: AbstractBaseUser, comments: CommentChoice) -> Deleted:
    """Delete the account and every personal row; `comments` says what becomes of the
    reader's comments. The caller has checked the password and logs the request out."""
    user_id = user.pk
    with transaction.atomic():
        mine = Comment.objects.filter(author=user)
        articles = set(mine.values_list("article_id", flat=True).distinct())
        removed = kept = 0
        if comments == CommentChoice.REMOVE:
            # What comments.moderation.delete_own does to one comment, to all of them at once.
            Report.objects.filter(comment__author=user, resolved=False).update(resolved=True)
            removed = mine.exclude(status__in=_GONE).update(status=Comment.Status.DELETED, body="", held_reason="")
        else:
            kept = mine.exclude(status__in=_GONE).count()
        _, rows = user.delete()  # CASCADEs; comments' author becomes NULL ("[deleted account]")
        for article_id in sorted(articles):
            notify(article_id)  # their cached pages showed the reader's name
    ended = end_sessions(user_id)
    return Deleted(removed, kept, ended, dict(rows))


def end_sessions(user_id: int) -> int:
    """Delete every stored session signed in as `user_id`; how many.

    Sessions kept in the database (the default, and cached_db) are read one by one, since
    only their decoded data names the user. Cache-only or cookie sessions cannot be
    listed: they hold nothing but the id of an account that no longer exists (Django then
    treats them as signed out) and expire on their own."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    model_class = getattr(store, "get_model_class", None)
    if model_class is None:
        return 0
    ended = 0
    for key, data in _stored_sessions(model_class()):
        decoded = store().decode(data)
        if str(decoded.get(SESSION_KEY, "")) == str(user_id):
            store(session_key=key).delete()
            ended += 1
    return ended


def _stored_sessions(model: type[models.Model]) -> Iterable[tuple[str, str]]:
    yield from model._default_manager.values_list("session_key", "session_data").iterator(chunk_size=2000)
