"""Snippets as safe HTML.

The database marks matches with two private-use characters instead of tags, so the text
can be escaped as a whole and only then given its <mark> elements. The characters could
also occur in an article; pairing them strictly means a stray one can never leave an
unclosed or unopened element behind.
"""

from __future__ import annotations

import re

from django.utils.html import escape

OPEN = "\ue000"
CLOSE = "\ue001"
_MARKS = re.compile(f"([{OPEN}{CLOSE}])")


def to_html(marked: str) -> str:
    """Escaped `marked` with each OPEN...CLOSE span wrapped in <mark>...</mark>."""
    out: list[str] = []
    inside = False
    for part in _MARKS.split(escape(marked or "")):
        if part == OPEN:
            if not inside:
                out.append("<mark>")
                inside = True
        elif part == CLOSE:
            if inside:
                out.append("</mark>")
                inside = False
        else:
            out.append(part)
    if inside:
        out.append("</mark>")
    return "".join(out).replace("<mark></mark>", "")
