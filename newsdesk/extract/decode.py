"""Bytes to text for fetched pages.

Order of trust: the HTTP header's charset (the server's word), then a byte-order mark,
then the page's own <meta charset> / http-equiv declaration, then detection. A source
is skipped when it names an unknown encoding or does not decode the bytes cleanly, so
a wrong declaration falls through to the next source instead of producing mojibake.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# Browsers read these labels as windows-1252, which is what servers mean by them.
_WINDOWS_1252_ALIASES = frozenset(
    {
        "iso-8859-1",
        "iso8859-1",
        "latin1",
        "latin-1",
        "l1",
        "us-ascii",
        "ascii",
        "iso_8859-1",
        "cp819",
    }
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:()-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([\w.:()-]+)""", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
PRESCAN_BYTES = 4096  # the HTML standard's window for <meta charset>
DETECTION_BYTES = 200_000  # enough bytes for detection; a whole 5 MB page is slow
TIE_CHAOS = 0.05  # charset-normalizer "chaos" scores this close are a tie


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return _codec(match.group(1)) if match else None


def _bom(data: bytes) -> tuple[str, int] | None:
    for mark, name in _BOMS:
        if data.startswith(mark):
            return name, len(mark)
    return None


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:PRESCAN_BYTES])
    if not match:
        return None
    name = _codec(match.group(1).decode("ascii", "ignore"))
    # a page that declares UTF-16 in an ASCII-readable <meta> cannot be UTF-16
    return "utf-8" if name and name.startswith("utf-16") else name


def _try(data: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode a fetched page; never raises, falls back to UTF-8 with replacement."""
    text = _try(data, charset_from_content_type(content_type))
    if text is not None:
        return text.lstrip("\ufeff")
    bom = _bom(data)
    if bom:
        text = _try(data[bom[1] :], bom[0])
        if text is not None:
            return text
    text = _try(data, _meta_charset(data))
    if text is not None:
        return text.lstrip("\ufeff")
    # undeclared: valid UTF-8 is almost never an accident, then ask the detector
    text = _try(data, "utf-8")
    if text is not None:
        return text
    codec = _detect(data[:DETECTION_BYTES])
    if codec:
        text = _try(data, codec)
        if text is not None:
            return text
        return data.decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")


def _detect(sample: bytes) -> str | None:
    """charset-normalizer's guess, preferring windows-1252 among near-ties: on short
    Western-European pages it cannot tell the Latin code pages apart, and 1252 is by
    far the most common of them on the web."""
    matches = list(from_bytes(sample))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    close = [_codec(match.encoding) for match in matches if match.chaos <= best + TIE_CHAOS]
    if "cp1252" in close:
        return "cp1252"
    return close[0] if close else _codec(matches[0].encoding)
