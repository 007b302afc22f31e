"""Snippets as safe HTML.

The database marks matches with two private-use characters instead of tags, so the text
can be escaped as a whole and only then given its <mark> elements. The characters could
also occur in an article; pairing them strictly means a stray one can never leave an
unclosed or unopened element behind.
"""

from __future__ import annotations

from django.utils.html import escape

OPEN = "\ue000"
CLOSE = "\ue001"


def to_html(marked: str) -> str:
    """Escaped `marked` with each OPEN...CLOSE span wrapped in <mark>...</mark>."""
    out: list[str] = []
    inside = False
    for char in escape(marked or ""):
        if char == OPEN:
            if not inside:
                out.append("<mark>")
                inside = True
        elif char == CLOSE:
            if inside:
                out.append("</mark>")
                inside = False
        else:
            out.append(char)
    if inside:
        out.append("</mark>")
    return "".join(out).replace("<mark></mark>", "")
