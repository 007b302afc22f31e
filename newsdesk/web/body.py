"""The article body with every sentence addressable.

Key points, the summary and ask-the-article name article sentences by their index in
`split_sentences(article.body_text)`. To point at them on the page, each sentence is
wrapped in `<span class="s" data-s="N">`, and its first piece also carries `id="s-N"`,
so a plain link to `#s-N` scrolls to it and CSS `:target` highlights it without any
JavaScript (site.js then highlights every piece of every sentence a key point names).

The publisher's formatting (paragraphs, headings, lists, links, images) is kept: the
sanitized `body_html` is walked with lxml, its text is aligned character by character
with `body_text` (both come from the same extracted tree, so apart from white space they
are the same characters), and sentence spans are put around the matching text. A span
never crosses an element boundary except to take in a whole inline element (a link or
emphasis) that lies inside one sentence, so most sentences are a single span. When the
two texts do not line up, the body is rendered from `body_text` instead (paragraphs and
line breaks only) rather than risk pointing at the wrong words.

The HTML is written here from scratch, never copied: only the tags and attributes of the
sanitizer's allow-list survive, every text and attribute value is escaped, and link and
image URLs must be http(s) (links may also be mailto). So even a body that somehow
skipped the sanitizer on ingest cannot carry script onto the page.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from lxml import etree
from lxml import html as lxml_html

from newsdesk.ai.sentences import Sentence, split_sentences
from newsdesk.extract.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, DROPPED_WITH_CONTENT, LINK_REL

__all__ = ["Body", "render_body", "sentence_id"]

VOID = frozenset({"img", "br"})
# Elements that may sit inside a sentence span (phrasing content of the allow-list).
INLINE = frozenset({"a", "em", "strong", "b", "i", "code", "br", "img"})
# Characters that carry no text: skipped on both sides of the alignment.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_NO_SENTENCE = -1


def sentence_id(index: int) -> str:
    return f"s-{index}"


@dataclass(frozen=True)
class Body:
    html: SafeString
    sentences: list[Sentence]
    from_publisher_html: bool  # False: rendered from body_text


def render_body(body_text: str, body_html: str) -> Body:
    sentences = split_sentences(body_text or "")
    if body_html and body_html.strip():
        try:
            rendered = _from_html(body_html, body_text or "", sentences)
        except (etree.ParserError, ValueError, RecursionError):
            rendered = None
        if rendered is not None:
            return Body(mark_safe(rendered), sentences, True)
    return Body(mark_safe(_from_text(body_text or "", sentences)), sentences, False)


# --- plain text --------------------------------------------------------------------------


def _from_text(text: str, sentences: list[Sentence]) -> str:
    """Paragraphs of sentence spans; a line break inside a paragraph stays a <br>."""
    out: list[str] = []
    paragraph = None
    previous: Sentence | None = None
    for sentence in sentences:
        if sentence.paragraph != paragraph:
            if paragraph is not None:
                out.append("</p>\n")
            out.append("<p>")
            paragraph = sentence.paragraph
        elif previous is not None:
            out.append("<br>" if "\n" in text[previous.end : sentence.start] else " ")
        out.append(_open_span(sentence.index, first=True))
        out.append(escape(sentence.text))
        out.append("</span>")
        previous = sentence
    if paragraph is not None:
        out.append("</p>")
    return "".join(out)


def _open_span(index: int, *, first: bool) -> str:
    ident = f' id="{sentence_id(index)}"' if first else ""
    return f'<span class="s" data-s="{index}"{ident}>'


# --- publisher HTML ----------------------------------------------------------------------


def _from_html(markup: str, text: str, sentences: list[Sentence]) -> str | None:
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    # Every text run of the tree in document order: (element, "text" | "tail").
    runs: list[tuple[etree._Element, str]] = []
    _collect_runs(root, runs, is_root=True)
    values = [getattr(elem, which) or "" for elem, which in runs]

    # Label every character of every run with its sentence (-1 for none), as segments
    # (start, end, sentence) of equal labels. Without any sentences (no body_text) the
    # HTML is shown as it is, with nothing to point at.
    if sentences:
        segments = _aligned_segments(values, text, sentences)
        if segments is None:
            return None  # the texts differ: do not guess
    else:
        segments = [[(0, len(value), _NO_SENTENCE)] if value else [] for value in values]
    labels = {(id(elem), which): found for (elem, which), found in zip(runs, segments)}

    covered: dict[int, set[int]] = {}
    _sentences_within(root, labels, covered)
    writer = _Writer(labels, covered)
    writer.content(root)
    return "".join(writer.out)


@functools.cache
def _blank_table() -> np.ndarray:
    """table[c] is True for the code points that carry no text: white space
    (str.isspace, about 30 code points, found by scanning once per process) and
    `_INVISIBLE`. It ends at the highest of them; anything above is visible."""
    codes = sorted({c for c in range(0x110000) if chr(c).isspace()} | {ord(c) for c in _INVISIBLE})
    table = np.zeros(codes[-1] + 1, dtype=bool)
    table[codes] = True
    return table


def _visible(codes: np.ndarray) -> np.ndarray:
    table = _blank_table()
    top = len(table) - 1
    return ~table[np.minimum(codes, top)] | (codes > top)


def _codes(value: str) -> np.ndarray:
    """The code points of `value` as an array (lone surrogates kept as they are)."""
    return np.frombuffer(value.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _aligned_segments(
    values: list[str], text: str, sentences: list[Sentence]
) -> list[list[tuple[int, int, int]]] | None:
    """Per run, its (start, end, sentence) segments; None when the runs' visible
    characters are not exactly those of `text`.

    Array operations instead of a Python step per character (the alignment was the
    article page's most expensive part): the visible characters of both sides must be
    equal; each visible character of the runs takes its sentence from `text`; white
    space between two characters of one sentence belongs to that sentence."""
    joined = "".join(values)
    codes, text_codes = _codes(joined), _codes(text)
    visible, text_visible = _visible(codes), _visible(text_codes)
    if not np.array_equal(codes[visible], text_codes[text_visible]):
        return None
    owner = np.full(len(text), _NO_SENTENCE, dtype=np.int64)
    for sentence in sentences:
        owner[sentence.start : sentence.end] = sentence.index
    marks = np.full(len(joined), _NO_SENTENCE, dtype=np.int64)
    marks[visible] = owner[text_visible]
    _label_white_space(marks, visible)
    return _segments(values, marks)


def _label_white_space(marks: np.ndarray, visible: np.ndarray) -> None:
    """White space between two characters of one sentence belongs to that sentence:
    a blank takes the label of the next visible character when the previous visible
    one has the same label (none before or after counts as -1)."""
    n = len(marks)
    if n == 0:
        return
    positions = np.arange(n)
    before_at = np.maximum.accumulate(np.where(visible, positions, -1))
    after_at = np.minimum.accumulate(np.where(visible, positions, n)[::-1])[::-1]
    before = np.where(before_at >= 0, marks[np.clip(before_at, 0, n - 1)], _NO_SENTENCE)
    after = np.where(after_at < n, marks[np.clip(after_at, 0, n - 1)], _NO_SENTENCE)
    take = ~visible & (before == after)
    marks[take] = after[take]


def _segments(values: list[str], marks: np.ndarray) -> list[list[tuple[int, int, int]]]:
    """Cut the labels of the joined runs back into each run's segments of equal label."""
    changes = np.flatnonzero(marks[1:] != marks[:-1]) + 1
    result: list[list[tuple[int, int, int]]] = []
    offset = 0
    for value in values:
        end = offset + len(value)
        first = np.searchsorted(changes, offset, side="right")
        cuts = changes[first : np.searchsorted(changes, end, side="left")]
        found = []
        start = offset
        for cut in (*cuts.tolist(), end):
            if cut > start:
                found.append((start - offset, cut - offset, int(marks[start])))
            start = cut
        result.append(found)
        offset = end
    return result


def _collect_runs(elem: etree._Element, runs: list, *, is_root: bool = False) -> None:
    if not isinstance(elem.tag, str) or elem.tag in DROPPED_WITH_CONTENT:
        pass  # comments and dropped elements contribute no text
    else:
        if elem.text:
            runs.append((elem, "text"))
        for child in elem:
            _collect_runs(child, runs)
    if not is_root and elem.tail:
        runs.append((elem, "tail"))


def _sentences_within(elem: etree._Element, labels: dict, covered: dict[int, set[int]]) -> set[int]:
    found: set[int] = {segment[2] for segment in labels.get((id(elem), "text"), ())}
    for child in elem:
        found |= _sentences_within(child, labels, covered)
        found |= {segment[2] for segment in labels.get((id(child), "tail"), ())}
    found.discard(_NO_SENTENCE)
    covered[id(elem)] = found
    return found


class _Writer:
    def __init__(self, labels: dict, covered: dict[int, set[int]]) -> None:
        self.labels = labels
        self.covered = covered
        self.out: list[str] = []
        self.open: int | None = None  # sentence of the span open in the current element
        self.seen: set[int] = set()

    def content(self, elem: etree._Element) -> None:
        """The inside of `elem`: its text and children, with sentence spans."""
        if isinstance(elem.tag, str) and elem.tag not in DROPPED_WITH_CONTENT:
            self.text(elem.text or "", self.labels.get((id(elem), "text")))
            for child in elem:
                self.child(child)
                self.text(child.tail or "", self.labels.get((id(child), "tail")))
        self.close()

    def child(self, elem: etree._Element) -> None:
        if not isinstance(elem.tag, str) or elem.tag in DROPPED_WITH_CONTENT:
            return
        inside = self.covered.get(id(elem), set())
        if self.open is not None and elem.tag in INLINE and inside <= {self.open}:
            self.whole(elem)  # e.g. a link in the middle of the open sentence
            return
        self.close()  # a span never straddles an element boundary
        start, end = _tags(elem)
        self.out.append(start)
        if elem.tag not in VOID:
            self.content(elem)
            self.out.append(end)

    def whole(self, elem: etree._Element) -> None:
        """An element and everything in it, without spans."""
        if not isinstance(elem.tag, str) or elem.tag in DROPPED_WITH_CONTENT:
            return
        start, end = _tags(elem)
        self.out.append(start)
        if elem.tag not in VOID:
            self.out.append(escape(elem.text or ""))
            for child in elem:
                self.whole(child)
                self.out.append(escape(child.tail or ""))
            self.out.append(end)

    def text(self, value: str, segments: list[tuple[int, int, int]] | None) -> None:
        if not value:
            return
        if segments is None:
            self.close()
            self.out.append(escape(value))
            return
        for start, end, sentence in segments:
            self.piece(value[start:end], sentence)

    def piece(self, value: str, sentence: int) -> None:
        if sentence == _NO_SENTENCE:
            self.close()
        elif sentence != self.open:
            self.close()
            self.out.append(_open_span(sentence, first=sentence not in self.seen))
            self.seen.add(sentence)
            self.open = sentence
        self.out.append(escape(value))

    def close(self) -> None:
        if self.open is not None:
            self.out.append("</span>")
            self.open = None


def _tags(elem: etree._Element) -> tuple[str, str]:
    """Start and end tag of an allow-listed element, or nothing for any other element
    (its text is still shown)."""
    tag = elem.tag.lower()
    if tag not in ALLOWED_TAGS:
        return "", ""
    attributes = []
    for name in sorted(ALLOWED_ATTRIBUTES.get(tag, ())):
        value = elem.get(name)
        if value is None:
            continue
        if name in ("href", "src") and not _safe_url(value, mailto=name == "href"):
            continue
        attributes.append(f' {name}="{escape(value)}"')
    if tag == "a":
        attributes.append(f' rel="{LINK_REL}"')
    if tag == "img":
        if elem.get("src") is None or not _safe_url(elem.get("src"), mailto=False):
            return "", ""
        attributes.append(' loading="lazy"')
        if elem.get("alt") is None:
            attributes.append(' alt=""')
    start = f"<{tag}{''.join(attributes)}>"
    return start, "" if tag in VOID else f"</{tag}>"


def _safe_url(value: str, *, mailto: bool) -> bool:
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in ("http", "https") or (mailto and scheme == "mailto")
