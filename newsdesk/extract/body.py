"""Find the article body: our own boilerplate pruning around one trafilatura pass.

trafilatura is good at locating the main text block but keeps chrome that sits inside
or right after it (newsletter boxes, "Related" lists, comment counters, the title
repeated as a heading). We prune such chrome from the DOM before it runs and filter
its paragraphs afterwards; both steps follow general page-layout rules, not site lists.
A cheap density check catches the rare page where it picked the wrong container.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from copy import deepcopy

import trafilatura
from lxml import etree
from lxml.html import HtmlElement, builder
from trafilatura.settings import Document

from . import boilerplate, paragraphs
from .density import dense_block
from .render import body_paragraphs

# The extraction is suspect when it holds less than this share of the densest block.
UNDER_EXTRACTION = 0.3
# Only results shorter than this are checked for under-extraction (the check walks the page).
CHECK_BELOW_CHARS = 3000
MIN_DUMP_LINES = 40


def _run(tree: HtmlElement) -> etree._Element | None:
    # No url: trafilatura would resolve every link of the page with courlan, which
    # costs more than the rest of its pass; the sanitizer resolves the few we keep.
    doc = trafilatura.bare_extraction(
        tree,
        fast=True,
        include_comments=False,
        include_links=True,
        include_images=False,  # captions and credits come along with pictures
        include_tables=True,
    )
    if not isinstance(doc, Document) or doc.body is None:  # a Document unless asked for a dict
        return None
    return doc.body


def _text_length(body: etree._Element | None) -> int:
    return len("".join(body.itertext()).strip()) if body is not None else 0


def _looks_like_dump(body: etree._Element) -> bool:
    """Navigation menus flattened into the body: many lines of one or two words."""
    breaks = sum(1 for _ in body.iter("lb", "p", "item", "row"))
    if breaks + sum(text.count("\n") for text in body.itertext()) < MIN_DUMP_LINES:
        return False
    lines = [line for p in body_paragraphs(body) for line in p.split("\n")]
    if len(lines) < MIN_DUMP_LINES:
        return False
    return statistics.median(len(line.split()) for line in lines) <= 3


def _from_block(block: HtmlElement) -> etree._Element | None:
    """Extract again from a page reduced to one block."""
    return _run(builder.HTML(builder.BODY(deepcopy(block))))


def extract_body(tree: HtmlElement, titles: Iterable[str] = ()) -> tuple[etree._Element, list[str]] | None:
    """The article body as trafilatura's XML element, chrome removed, with its text
    paragraphs; None if there is none.

    Prunes `tree` in place: read the metadata first."""
    boilerplate.prune(tree)
    body = _run(tree)
    length = _text_length(body)
    dump = body is not None and _looks_like_dump(body)
    if dump or length < CHECK_BELOW_CHARS:
        block, score = dense_block(tree)
        if block is not None and (dump or length < UNDER_EXTRACTION * score):
            candidate = _from_block(block)
            cand_length = _text_length(candidate)
            if cand_length > 0 and (dump or cand_length > 2 * length):
                body = candidate
    if body is None:
        return None
    return body, paragraphs.filter_body(body, titles)
