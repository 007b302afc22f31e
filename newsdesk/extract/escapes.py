"""Character references a publisher escaped twice, decoded once more.

Some CMSs escape a headline or description before putting it in an attribute that the
template escapes again: `content="Trump&amp;#039;s"`. The HTML parser decodes one level,
which leaves "Trump&#039;s" in the text, and readers would see the reference raw. One
more pass over complete references (`&name;`, `&#39;`, `&#x27;`) gives the text meant.

Only references that end in a semicolon are decoded: HTML also accepts a few legacy
names without one ("&copy", "&reg", "&not"...), and "AT&T", "Q&A" or "Marks&not" must
stay as written. The pass runs once, where page text enters newsdesk (the page's
metadata), so stored text is clean and nothing decodes it again: "&amp;amp;" becomes
"&amp;", never "&". No-break spaces become plain spaces, as in all other metadata text.
"""

from __future__ import annotations

import html
import re

__all__ = ["unescape_once"]

_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_once(text: str) -> str:
    """`text` with each complete character reference decoded once and no-break spaces
    made plain: "war.&nbsp; &quot;We" -> 'war.  "We'."""
    if "&" in text:
        text = _REFERENCE.sub(lambda match: html.unescape(match.group(0)), text)
    return text.replace("\xa0", " ")
