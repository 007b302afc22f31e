"""Template filters and tags for how the site shows time, metadata and navigation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

register = template.Library()

# What json_script escapes: nothing in the data can close the <script> element or
# start a comment or CDATA section in it.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026",
                 ord("\u2028"): "\\u2028", ord("\u2029"): "\\u2029"}


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


@register.filter
def ld_json(value) -> SafeString:
    """`value` as a schema.org JSON-LD block. A data block is never executed, so the
    Content-Security-Policy allows it; the escaping is json_script's."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


@register.inclusion_tag("newsdesk/_when.html")
def when(value: datetime | None, label: str = ""):
    """<time> with the age as text and the exact time (UTC) on hover."""
    return {"value": value, "label": label}


@register.inclusion_tag("newsdesk/_sections_nav.html", takes_context=True)
def sections_nav(context):
    from newsdesk.ai.sections import SECTIONS

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.kwargs.get("section") if match and match.url_name == "section" else None
    return {"sections": SECTIONS, "current": current}
