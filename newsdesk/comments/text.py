"""Comment text is plain text: stored as typed, escaped when shown.

The only markup a comment ever gets is made here, from escaped text: paragraphs and
line breaks, and links for the URLs Django's urlize recognises (http, https, www. and
bare domains, never `javascript:`).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.template.defaultfilters import linebreaks_filter
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

from newsdesk.comments.models import MAX_LENGTH

# C0 controls other than tab and newline, DEL, C1 controls, and the bidirectional
# embedding/override/isolate controls that can make text display as something it is not.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Characters that take no space: a body of only these is empty to a reader.
_INVISIBLE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
_LINK_REL = ' rel="nofollow ugc noopener"'
_URL_TRIM = 60


def clean_body(raw: str) -> str:
    """The body as it will be stored, or a ValidationError a reader can act on."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _INVISIBLE.sub("", text):
        raise ValidationError("Write something before posting.", code="empty")
    if _CONTROL.search(text):
        raise ValidationError(
            "The comment contains control characters; please remove them and post it again.",
            code="control",
        )
    if len(text) > MAX_LENGTH:
        raise ValidationError(
            f"A comment can be at most {MAX_LENGTH:,} characters long (this one has {len(text):,}).",
            code="too_long",
        )
    return text


def _linked(text: str) -> str:
    # urlize escapes everything it does not turn into a link. Its own anchors are the
    # only '" rel="nofollow">' left in the output (a typed quote or '>' is escaped by
    # then), so widening that rel cannot touch anything the author wrote.
    html = urlize(text, trim_url_limit=_URL_TRIM, nofollow=True, autoescape=True)
    return html.replace(' rel="nofollow">', _LINK_REL + ">")


def render(text: str) -> SafeString:
    """Escaped HTML with paragraphs, line breaks and clickable links."""
    return mark_safe(linebreaks_filter(mark_safe(_linked(text)), autoescape=True))


def count_links(text: str) -> int:
    """How many links a reader would see, counted the way they are rendered."""
    return _linked(text).count("<a href=")
