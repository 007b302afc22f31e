"""The reader's buttons on the site's own pages: follow a source, save an article or
keep it unread, mark a listing read.

Each tag renders nothing personal for anonymous readers (their pages are cached and
shared), and for signed-in readers a plain POST form with its CSRF token: those pages
are never cached (newsdesk/web/pagecache.py bypasses signed-in readers)."""

from __future__ import annotations

from typing import Any

from django import template

from newsdesk.reader import buttons, fragments, interests, new_since, state
from newsdesk.search.forms import SearchForm

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


@register.inclusion_tag(buttons.INTEREST, takes_context=True)
def interest_buttons(context: template.Context, kind: str, key: Any, show: str = "") -> dict:
    """Follow and mute buttons for a hashtag, section, story, source or word (nothing
    when the key names nothing); `show` "follow" or "mute" offers only that one."""
    try:
        target = interests.resolve(kind, key)
    except interests.InterestError:
        return {"target": None}
    found = buttons.interest_context(_reader(context), target, _here(context), show)
    return {**found, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag(buttons.INTEREST, takes_context=True)
def search_buttons(context: template.Context) -> dict:
    """ "Follow this search" for the search page's query and filters (a saved search)."""
    key = _search_key(context)
    if key is None:
        return {"target": None}
    target = interests.Target("search", key, interests.describe_search(key), interests.url_of("search", key))
    found = buttons.interest_context(_reader(context), target, _here(context))
    return {**found, "csrf_token": context.get("csrf_token")}


@register.simple_tag(takes_context=True)
def reader_since(context: template.Context, kind: str = "", key: Any = "") -> Any:
    """Where "new since your last visit" starts on this listing (None for anonymous
    readers, whose cached pages never carry a marker): `{% reader_since "hashtag" slug
    as reader_since %}`, then newsdesk/_article_item.html marks what is newer."""
    request = context.get("request")
    if request is None or _reader(context) is None:
        return None
    if kind == "search":
        key = _search_key(context)
        if key is None:
            return new_since.visit_since(request)
    return new_since.listing_since(request, kind, key)


def _search_key(context: template.Context) -> str | None:
    """The saved-search key of the search page's query, from the form the page has
    validated (a second form cost 2-3 ms a search), or from the query string; None when
    it cannot be saved."""
    form = context.get("form")
    try:
        if isinstance(form, SearchForm) and form.is_bound:
            return None if form.errors else interests.key_of_search(form.cleaned_data)
        request = context.get("request")
        return None if request is None else interests.search_key(request.GET)
    except interests.InterestError:
        return None
