"""Locate the densest block of running text on a page, readability-style.

Used only as a check on the main extractor: when its result is tiny next to the
page's densest text block, it picked the wrong container (a sidebar widget named
"text", a teaser box), and we extract again from the dense block instead.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

# Text inside these is navigation, chrome or markup, never article prose.
_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "button",
        "select",
        "option",
        "a",
        "li",
        "figcaption",
        "label",
        "template",
        "svg",
        "iframe",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "textarea",
    }
)
_CONTAINERS = frozenset({"div", "article", "section", "main", "td", "body", "blockquote", "center", "font", "span"})
MIN_RUN = 10  # characters: shorter text runs are labels, dates, buttons
# Reader comments are often the longest prose on a page.
_COMMENTS = re.compile(r"comment|disqus|reply|\brespond\b", re.IGNORECASE)


def dense_block(tree: HtmlElement) -> tuple[HtmlElement | None, float]:
    """The container with the most prose (own runs count fully, a child's half)."""
    scores: dict[HtmlElement, float] = {}
    skipped: set[HtmlElement] = set()

    def credit(elem: HtmlElement, size: int) -> None:
        node = elem
        while node is not None and node.tag not in _CONTAINERS:
            node = node.getparent()
        if node is None:
            return
        scores[node] = scores.get(node, 0.0) + size
        parent = node.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0.0) + size / 2

    for elem in tree.iter():
        parent = elem.getparent()
        parent_skipped = parent is not None and parent in skipped
        if (
            parent_skipped
            or not isinstance(elem.tag, str)
            or elem.tag in _SKIP
            or _COMMENTS.search(f"{elem.get('class', '')} {elem.get('id', '')}")
        ):
            skipped.add(elem)
        elif elem.text and len(stripped := elem.text.strip()) >= MIN_RUN:
            credit(elem, len(stripped))
        if not parent_skipped and parent is not None and elem.tail:
            if len(stripped := elem.tail.strip()) >= MIN_RUN:
                credit(parent, len(stripped))
    if not scores:
        return None, 0.0
    best = max(scores, key=scores.__getitem__)
    return best, scores[best]
