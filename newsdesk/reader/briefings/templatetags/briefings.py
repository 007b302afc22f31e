"""`{% notifications_link %}`: a link to the reader's notifications with the unread
count, for the site's header or the reader's navigation (one indexed count per page;
nothing for anonymous readers, whose pages are cached)."""

from __future__ import annotations

from django import template

from newsdesk.reader.briefings import notifications

register = template.Library()


@register.inclusion_tag("briefings/_notifications_link.html", takes_context=True)
def notifications_link(context: template.Context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": notifications.unread_count(user.pk), "request": request}
