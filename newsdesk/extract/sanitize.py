"""The one HTML policy for article bodies we store and later show.

Page and feed HTML is hostile input. Everything that reaches our templates goes
through this allow-list (nh3, i.e. the ammonia sanitizer): structure and emphasis
only, links and images by http(s) URL, no scripts, styles, event handlers, frames or
forms. Relative URLs are resolved against the page so the HTML works out of context.
"""

from __future__ import annotations

from typing import Literal, TypeGuard
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "figure",
        "figcaption",
        "img",
        "a",
        "em",
        "strong",
        "b",
        "i",
        "br",
        "pre",
        "code",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "caption",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
# Elements whose content goes with them, not just their tags.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "noscript",
        "template",
        "object",
        "embed",
        "svg",
        "math",
        "textarea",
        "select",
        "button",
        "form",
        "frameset",
        "noframes",
        "title",
    }
)
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"


def _is_http(url: str | None) -> TypeGuard[str]:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def sanitize_html(html: str, base_url: str | None) -> str:
    """Clean an HTML fragment to our allow-list; relative links resolved on base_url."""
    if not html:
        return ""
    relative: tuple[Literal["rewrite_with_base"], str] | Literal["pass_through"] = (
        ("rewrite_with_base", base_url) if _is_http(base_url) else "pass_through"
    )
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        url_relative=relative,
    ).strip()
