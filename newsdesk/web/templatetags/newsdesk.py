"""Template filters and tags for how the site shows time, metadata and navigation."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.template import Context
from django.template.base import Parser, Token
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as url_tag
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, timezone, translation
from django.utils.dates import MONTHS
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

register = template.Library()

# What json_script escapes: nothing in the data can close the <script> element or
# start a comment or CDATA section in it.
_JSON_ESCAPES = {
    ord(">"): "\\u003E",
    ord("<"): "\\u003C",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}


@register.filter
def age(value: datetime | None) -> str:
    """'16 minutes ago', 'an hour ago', '5 days ago': one unit, as news sites say it."""
    if not value:
        return ""
    now = timezone.now()
    if now - value < timedelta(days=1):
        text = naturaltime(value)
    else:
        text = f"{timesince(value, now, depth=1)} ago"
    return text.replace("\xa0", " ")


# The one absolute date format of the site ("5 December 2026, 07:13 UTC"): on hover of
# every age (`{% when %}`) and wherever a date is shown as it is.
EXACT_FORMAT = "j F Y, H:i T"


@register.filter(expects_localtime=True)
def exact(value: datetime | None) -> str:
    return _exact(value.replace(second=0, microsecond=0), translation.get_language()) if value else ""


@lru_cache(maxsize=4096)
def _exact(value: datetime, language: str | None) -> str:
    """EXACT_FORMAT written out, with Django's month names: dateformat.format took 18 us
    a date (it parses the format and checks the zone every time), and a search page shows
    twenty dates, mostly not seen lately. A time that a clock change makes ambiguous or
    skipped is left to dateformat, which names no zone then; tests/test_web.py checks
    that both write the same."""
    if value.tzinfo is None or value.utcoffset() != value.replace(fold=1 - value.fold).utcoffset():
        return dateformat.format(value, EXACT_FORMAT)
    return f"{value.day} {MONTHS[value.month]} {value.year}, {value.hour:02d}:{value.minute:02d} {value.tzname()}"


@register.filter
def ld_json(value: object) -> SafeString:
    """`value` as a schema.org JSON-LD block. A data block is never executed, so the
    Content-Security-Policy allows it; the escaping is json_script's."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


@register.simple_tag
def when(value: datetime | None, label: str = "") -> SafeString | str:
    """<time> with the age as text and the exact time on hover. A plain tag, not an
    included template: listings show one per item, and the template cost 50 us each."""
    if not value:
        return ""
    text = f"{label} {age(value)}" if label else age(value)
    opening = _time_opening(value, timezone.get_current_timezone(), translation.get_language())
    return mark_safe(f"{opening}{html.escape(text)}</time>")


@lru_cache(maxsize=4096)
def _time_opening(value: datetime, zone: tzinfo, language: str | None) -> str:
    """`<time datetime=... title=...>` of `value` in `zone`: only the age changes with
    the clock, and working out the rest (the local time, its two formats, escaping)
    was about half of each `when`, 17 of them on a search page."""
    local = timezone.localtime(value, zone)
    return f'<time datetime="{local.isoformat()}" title="{html.escape(exact(local))}">'


_NEW_MARK = mark_safe(
    '<span class="badge reader-new">New<span class="visually-hidden"> since your last visit</span></span> '
)


@register.simple_tag
def new_mark(published_at: datetime | None, since: datetime | None) -> SafeString | str:
    """The reader's "new since your last visit" marker, before the publisher in every
    listing, for an article published after `since` (None for anonymous readers)."""
    return _NEW_MARK if since and published_at and published_at > since else ""


@register.simple_tag
def hit_rows(rows: list[dict[str, Any]], since: datetime | None = None) -> SafeString:
    """The search page's rows, each written in Python around its marker and its time
    (newsdesk/search/rows.py), joined here rather than by a template loop of six nodes
    and their lookups per row, 120 a page."""
    return mark_safe(
        "".join(
            f"{row['head']}{new_mark(row['published_at'], since)}"
            f"{row['source']}{when(row['published_at'])}{row['tail']}"
            for row in rows
        )
    )


@register.simple_tag(takes_context=True)
def sections_nav(context: Context) -> SafeString:
    """The sections bar of every page, rendered by its template once per current section
    and URL scope: through the template it cost about 0.2 ms of each page."""
    from newsdesk.ai.sections import SECTIONS

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.kwargs.get("section") if match and match.url_name == "section" else None
    if current not in SECTIONS:
        current = None  # marks no link either way; and the key stays one of a few
    key = (current, *_scope(context))
    bar = _SECTIONS_NAV.get(key)
    if bar is None:
        template = get_template("newsdesk/_sections_nav.html")
        bar = _SECTIONS_NAV[key] = mark_safe(template.render({"sections": SECTIONS, "current": current}, request))
    return bar


_SECTIONS_NAV: dict[tuple, SafeString] = {}


# --- URLs ----------------------------------------------------------------------------

# reverse() costs about 10 microseconds (it rebuilds and checks the URL against its
# pattern each time) and an article page links some 40 URLs, mostly the same few
# patterns with the same few arguments (sections, publishers, hashtags). The result
# depends only on the name, the arguments, the namespace being served, the script
# prefix and the URL configuration, so it is remembered under all of them.
_URLS: dict[tuple, str] = {}
_URLS_MAX = 20000  # then start again: publishers and hashtags, not one per article


def _forget_urls(**kwargs: Any) -> None:
    _URLS.clear()
    _SECTIONS_NAV.clear()


setting_changed.connect(_forget_urls, dispatch_uid="newsdesk-cached-url")


def _current_app(context: Context) -> str | None:
    """The namespace `{% url %}` resolves against (URLNode.render's rule)."""
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


def _scope(context: Context) -> tuple[str | None, str, Any]:
    """(namespace, script prefix, URL configuration): the same for a whole request, and
    each is a context-local lookup (2 us), so they are read once and kept on the request."""
    request = getattr(context, "request", None)
    scope = getattr(request, "_newsdesk_url_scope", None)
    if scope is None:
        scope = (_current_app(context), get_script_prefix(), get_urlconf())
        if request is not None:
            request._newsdesk_url_scope = scope
    return scope


def _plain(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def cached_reverse(context: Context, view_name: str, args: list[str | int]) -> str:
    """reverse() as `{% url %}` does it in `context`, remembered (unescaped)."""
    scope = _scope(context)
    key = (view_name, *((type(arg), arg) for arg in args), *scope)
    url = _URLS.get(key)
    if url is None:
        url = reverse(view_name, args=args, current_app=scope[0])
        if len(_URLS) >= _URLS_MAX:
            _URLS.clear()
        _URLS[key] = url
    return url


class CachedURLNode(URLNode):
    """`{% url %}` with its result remembered; anything but plain positional string or
    integer arguments goes through `{% url %}` itself."""

    def render(self, context: Context) -> str:
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        if not all(_plain(arg) for arg in args):
            return super().render(context)
        try:
            url = cached_reverse(context, self.view_name.resolve(context), args)
        except NoReverseMatch:
            if self.asvar is None:
                raise
            context[self.asvar] = ""  # as {% url ... as var %} does
            return ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def cached_url(parser: Parser, token: Token) -> CachedURLNode:
    """`{% cached_url 'name' arg ... %}`: the same as `{% url %}`, remembered."""
    node = url_tag(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


@register.simple_tag(takes_context=True)
def related_items(context: Context, related: list) -> SafeString:
    """The related box's items (newsdesk/web/related_box.py), written in Python."""
    from newsdesk.web.related_box import items_html

    return items_html(related, lambda name, arg: cached_reverse(context, name, [arg]))
