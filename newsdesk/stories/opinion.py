"""Opinion: commentary, editorials and columns, as the publisher files them.

A report tells what happened; an opinion piece argues about a subject, often days of
events at once. "Why Beijing will bring slaughter to Hong Kong" reads as close to the
day's news from Hong Kong as that news reads to itself (the same places, the same
words), yet it is no coverage of the siege the news reports. So the clusterer takes an
opinion piece into a story only on evidence that ties it to that happening: a person or
an organisation it shares with the story's reports (a shared place is the subject, not
the event), and two opinion pieces are never evidence of one event on their own
(`clustering.Params`).

Read from what the page says about itself, never from its words: the section the
publisher filed it under (`article:section`, JSON-LD `articleSection` or `@type`
OpinionNewsArticle, which extraction records as the section "Opinion", the feed's
categories), its address (`/opinion/`, `/commentisfree/`, ...) and the desk's label in
its headline ("Opinion | ...", "... | Editorial"). A publisher that files no opinion as
such is read as news, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# Section labels (lowercase words) that file a page as opinion. "Analysis" and "Review"
# are not here: an analysis or a review is about one happening (a product's release).
_SECTION_WORDS = frozenset(
    {
        "opinion",
        "opinions",
        "commentary",
        "editorial",
        "editorials",
        "op-ed",
        "op-eds",
        "oped",
        "columnist",
        "columnists",
    }
)
# Whole labels that are opinion only when they stand alone ("Comment", not "Comments policy").
_SECTION_LABELS = frozenset(
    {"comment", "comment is free", "letters", "letters to the editor", "viewpoint", "viewpoints"}
)
# Folders of opinion in an address: the same words, and the desks' own names.
_PATH_SEGMENTS = _SECTION_WORDS | {"commentisfree", "comment", "letters"}
_DESK = r"(?:opinion|op-ed|editorial|commentary|column)"
_HEADLINE = re.compile(rf"^\s*{_DESK}\s*[|:]|[|:–—-]\s*{_DESK}\s*$", re.IGNORECASE)
_LABEL_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)?")


def is_opinion(url: str = "", sections: Iterable[str] = (), title: str = "") -> bool:
    """Whether the publisher presents the page as opinion rather than a report."""
    for label in sections:
        low = " ".join(label.lower().split())
        if low in _SECTION_LABELS or _SECTION_WORDS.intersection(_LABEL_WORDS.findall(low)):
            return True
    path = urlsplit(url).path.lower()
    if _PATH_SEGMENTS.intersection(path.split("/")[:-1] or ()):
        return True
    return bool(title and _HEADLINE.search(title))
