"""Text to an lxml tree, defensively.

Pages are hostile input: gigabyte bodies, 50,000 nested <div>s, NUL bytes, binary
junk served as text/html. libxml2 already caps nesting depth and recovers from broken
markup; we cap the size and let trafilatura's loader repair what libxml2 chokes on.
"""

from __future__ import annotations

from lxml.html import HtmlElement
from trafilatura.utils import load_html

# Real article pages stay far below this; past it we parse the beginning only.
MAX_CHARS = 6_000_000


def parse_html(text: str) -> HtmlElement | None:
    """Parse a page; None when it is empty or not HTML at all."""
    if not text or not text.strip():
        return None
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    tree = load_html(text)
    if tree is None or len(tree) == 0:
        return None
    return tree
