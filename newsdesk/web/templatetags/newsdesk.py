"""Template filters for how the site shows time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


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
