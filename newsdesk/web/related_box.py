"""The article page's related box, its items written in Python.

Every article page shows six related articles and an uncached page is rendered whole,
so what each item costs counts on every page: through the template (stories/_related.html
before) the six items took about 0.8 ms, some 25 nodes and their lookups per item. Here
each item's markup is joined from the same tags' functions (picture, byline_profile,
when), so it stays the site's; tests/test_related_box.py keeps the former item template
as the reference the items are compared with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.template.defaultfilters import truncatewords
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from newsdesk.images.templatetags.images import picture
from newsdesk.perspectives.templatetags.perspectives import byline_profile
from newsdesk.stories.related_db import Related
from newsdesk.web.templatetags.newsdesk import when

EXCERPT_WORDS = 30


def items_html(related: Sequence[Related], url: Callable[[str, str | int], str]) -> SafeString:
    """The <li> of each item; `url(name, arg)` reverses a URL (unescaped)."""
    return mark_safe("".join(_item(item, url) for item in related))


def _item(item: Related, url: Callable[[str, str | int], str]) -> str:
    article = item.article
    source = article.source
    shown = picture(article, "thumb")
    byline = f'· <span class="byline">{escape(article.byline)}</span>' if article.byline else ""
    badge = '· <span class="badge">same story</span>' if item.same_story else ""
    excerpt = f'<p class="excerpt">{escape(truncatewords(item.excerpt, EXCERPT_WORDS))}</p>' if item.excerpt else ""
    also = (
        f'<p class="also">Also published by {", ".join(escape(other.name) for other in item.also)}</p>'
        if item.also
        else ""
    )
    return (
        f'\n    <li class="item{" has-pic" if shown else ""}">\n      {shown}\n'
        f'      <p class="meta"><a href="{escape(url("source", source.slug))}">{escape(source.name)}</a>'
        f" {byline_profile(source)}\n        · {when(article.published_at)}\n        {byline}\n        {badge}</p>\n"
        f'      <h3 class="headline"><a href="{escape(url("article", article.pk))}">{escape(article.title)}</a></h3>\n'
        f"      {excerpt}\n      {also}\n    </li>"
    )
