"""Turn trees into plain-text paragraphs and simple HTML.

trafilatura's own text output is Markdown-flavoured (links as ``[text](url)``, tables
with ``|`` rules), which is noise for search, summaries and word counts; walking its
small XML vocabulary ourselves gives clean paragraphs from the same tree that also
feeds the HTML output, so a page is extracted only once. Feed HTML (used when a page
cannot be fetched) goes through the same walker with HTML's tag names.
"""

from __future__ import annotations

import re
from copy import deepcopy

from lxml import etree, html
from trafilatura.htmlprocessing import convert_to_html

# Elements of trafilatura's body XML that start and end a paragraph of text.
_XML_BLOCKS = frozenset(
    {
        "p",
        "head",
        "quote",
        "code",
        "list",
        "item",
        "table",
        "row",
        "div",
        "figure",
        "note",
        "details",
    }
)
_XML_SKIP = frozenset({"graphic"})
# The same for HTML.
_HTML_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "nav",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "table",
        "tr",
        "caption",
        "hr",
        "address",
        "details",
        "summary",
    }
)
_HTML_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "textarea",
        "select",
        "button",
        "form",
        "head",
        "title",
    }
)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def _paragraph_runs(
    root: etree._Element,
    blocks: frozenset[str],
    skip: frozenset[str],
    line_break: str,
    cell: set[str],
) -> list[str]:
    """Collect text runs per block with an explicit stack (no recursion limit on deep trees)."""
    runs: list[list[str]] = [[]]
    # (element, entering) pairs; on leaving we emit the tail
    stack: list[tuple[etree._Element, bool]] = [(root, True)]
    while stack:
        elem, entering = stack.pop()
        tag = elem.tag if isinstance(elem.tag, str) else None
        if not entering:
            if tag in blocks:
                runs.append([])
            if elem.tail and elem is not root:
                runs[-1].append(elem.tail)
            continue
        if tag is None or tag in skip:
            if elem.tail and elem is not root:
                runs[-1].append(elem.tail)
            continue
        if tag in blocks:
            runs.append([])
        if tag == line_break:
            runs[-1].append("\n")
        elif tag in cell:
            runs[-1].append(" ")
        if elem.text:
            runs[-1].append(elem.text)
        stack.append((elem, False))
        stack.extend((child, True) for child in reversed(elem))
    paragraphs = []
    for parts in runs:
        text = "".join(parts)
        if text and not text.isspace():
            paragraphs.append(clean_paragraph(text))
    return [p for p in paragraphs if p]


def clean_paragraph(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks that the page meant."""
    text = _SPACES.sub(" ", text.replace("\u00a0", " ").replace("\u200b", ""))
    return _BLANK_LINES.sub("\n", text).strip()


def body_paragraphs(body: etree._Element) -> list[str]:
    """The paragraphs of a trafilatura body element, in document order."""
    return _paragraph_runs(body, _XML_BLOCKS, _XML_SKIP, "lb", {"cell"})


def body_html(body: etree._Element) -> str:
    """Unsanitised HTML of a trafilatura body; the caller runs it through the sanitizer."""
    tree = convert_to_html(deepcopy(body))
    inner = tree[0]
    for heading in inner.iter("h1"):
        heading.tag = "h2"  # the page's own title is shown apart; keep one h1 per page
    parts = [inner.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode", method="html") for child in inner)
    return "".join(parts)


def html_to_text(markup: str) -> str:
    """Plain-text paragraphs ("\\n\\n" between them) of an HTML fragment or page."""
    if not markup or not markup.strip():
        return ""
    try:
        root = html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    paragraphs = _paragraph_runs(root, _HTML_BLOCKS, _HTML_SKIP, "br", {"td", "th"})
    return "\n\n".join(paragraphs)
