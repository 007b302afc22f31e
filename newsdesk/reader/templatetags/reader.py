"""The reader's buttons on the site's own pages: follow a source, save an article or
keep it unread, mark a listing read.

Each tag renders nothing personal for anonymous readers (their pages are cached and
shared), and for signed-in readers a plain POST form with its CSRF token: those pages
are never cached (newsdesk/web/pagecache.py bypasses signed-in readers)."""

from __future__ import annotations

from typing import Any

from django import template

from newsdesk.reader import fragments, state

register = template.Library()


def _reader(context: template.Context) -> Any:
    user = context.get("user")
    return user if user is not None and user.is_authenticated else None


def _here(context: template.Context) -> str:
    request = context.get("request")
    return request.get_full_path() if request is not None else ""


@register.inclusion_tag(fragments.FOLLOW, takes_context=True)
def follow_button(context: template.Context, source: Any) -> dict:
    found = fragments.follow_context(_reader(context), source, _here(context))
    return {**found, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag(fragments.ARTICLE, takes_context=True)
def article_actions(context: template.Context, article: Any) -> dict:
    found = fragments.article_context(_reader(context), article, _here(context))
    return {**found, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("reader/_mark_read.html", takes_context=True)
def mark_listing_read(context: template.Context, articles: Any) -> dict:
    user = _reader(context)
    if user is None:
        return {"reader": None}
    ids = [article.pk for article in articles]
    return {
        "reader": user,
        "ids": ids,
        "unread": len(ids) - len(state.read_ids(user, ids)),
        "next": _here(context),
        "csrf_token": context.get("csrf_token"),
    }
