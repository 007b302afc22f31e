"""`{% comment_thread article as thread %}` and `{{ comment.body|comment_text }}`.

The tag lets `comments/_section.html` be included on any page that has an `article`
in its context, without the page's view knowing about comments.
"""

from __future__ import annotations

from django import template
from django.template import Context
from django.utils.safestring import SafeString

from newsdesk.articles.models import Article
from newsdesk.comments import text
from newsdesk.comments.thread import Thread, build

register = template.Library()


@register.simple_tag(takes_context=True)
def comment_thread(context: Context, article: Article) -> Thread:
    user = context.get("user")
    if user is None and (request := context.get("request")) is not None:
        user = getattr(request, "user", None)
    return build(article, user)


@register.filter(is_safe=True)
def comment_text(value: str) -> SafeString:
    """Plain text to escaped HTML with paragraphs and nofollow/ugc links."""
    return text.render(value or "")
