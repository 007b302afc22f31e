"""The language an article is written in, from its text.

Pages declare a language (`<html lang>`, og:locale) that is often a site template's
default, and a tenth declare none: a German trade-fair report declared "en" came out
with the tags "die", "Sie" and "Dieses Jahr". Extraction therefore stores the language
the text itself is in, read with pycld2 (Google's Compact Language Detector 2, the one
in Chrome, compiled into the wheel: a few hundredths of a millisecond and a megabyte or
two, where py3langid took a millisecond and 60 MB a process), and trusts the
declaration only when the text is too short or too mixed to tell. The same answer
serves hashtags, summaries and search, for rows stored before as well.
"""

from __future__ import annotations

SAMPLE_CHARS = 2000  # the first paragraphs say it; whole articles cost more, tell no more
MIN_CHARS = 200  # below this (a headline, a caption) the declaration wins
MIN_PERCENT = 80  # of the sample in the top language, or the text is too mixed to say


def detect(text: str) -> tuple[str, int] | None:
    """ISO 639-1 code of the text's language and the share of the text in it (percent),
    or None when CLD2 cannot tell."""
    import pycld2

    sample = "".join(c for c in text[:SAMPLE_CHARS] if c.isprintable() or c in "\n\t")
    try:
        reliable, _, details = pycld2.detect(sample)
    except pycld2.error:  # bytes it refuses (lone surrogates): no verdict
        return None
    code, percent = details[0][1], int(details[0][2])
    if not reliable or code in ("un", "xxx"):
        return None
    return code.split("-")[0][:2], percent


def text_language(text: str, declared: str | None = None) -> str:
    """What the text says its language is when there is enough of it to say so
    confidently, otherwise the declared one (ISO 639-1, "" when neither tells)."""
    declared = (declared or "").lower()[:2]
    sample = text.strip()
    if len(sample) < MIN_CHARS:
        return declared
    found = detect(sample)
    return found[0] if found is not None and found[1] >= MIN_PERCENT else declared


def article_language(title: str, text: str, declared: str | None = None) -> str:
    """The language to process the article in: its text's, else the declared one, else
    English."""
    return text_language(f"{title}\n{text}", declared) or "en"
