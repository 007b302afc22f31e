"""Bytes to text for everything newsdesk fetches: pages, feeds, sitemaps, OPML files.

The one charset policy. It follows the WHATWG sniffing order (byte-order mark, then the
Content-Type charset, then a <meta charset>/http-equiv or XML declaration near the top,
then a guess) because browsers do, so publishers check their pages against it. It departs
from it twice, for what servers really send: valid UTF-8 that is not plain ASCII is read
as UTF-8 whatever is declared (latin-1 declared over UTF-8 by a server default or a CMS
template is common; legacy text that happens to be valid UTF-8 is all but impossible), and
a declaration that cannot decode the bytes is skipped rather than obeyed with U+FFFD, as
no reader is there to pick another encoding. Labels mean what browsers make of them
(latin-1 is windows-1252) and only web encodings are obeyed: UTF-7 or unicode_escape could
spell markup that byte-level checks never saw. The guess is charset-normalizer's.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

__all__ = ["decode_text"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Python's name for a label's encoding -> the codec browsers decode that label with
# (the WHATWG Encoding Standard's encodings). Anything else is ignored.
_WEB_CODECS = {
    "utf-16": "utf-16-le",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    **{
        name: name
        for name in (
            "utf-8 utf-16-le utf-16-be cp866 iso8859-2 iso8859-3 iso8859-4 iso8859-5"
            " iso8859-6 iso8859-7 iso8859-8 iso8859-10 iso8859-13 iso8859-14 iso8859-15"
            " iso8859-16 koi8-r koi8-u mac-roman mac-cyrillic cp874 cp1250 cp1251 cp1252"
            " cp1253 cp1254 cp1255 cp1256 cp1257 cp1258 gbk gb18030 big5hkscs euc_jp"
            " iso2022_jp cp932 cp949"
        ).split()
    },
}
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:()-]+)""", re.IGNORECASE)
_DOCUMENT_CHARSET = re.compile(
    rb"""<\?xml[^>]{0,200}?\bencoding\s*=\s*["']?\s*([\w.:()-]+)"""
    rb"""|<meta[^>]{0,300}?charset\s*=\s*["']?\s*([\w.:()-]+)""",
    re.IGNORECASE,
)
# The standard's prescan reads 1024 bytes, but its parser still switches encoding on a
# later <meta> in the head; 4096 bytes catch most of those for the price of a regex.
PRESCAN_BYTES = 4096
DETECTION_BYTES = 256 * 1024  # enough for the detector; a whole 10 MB page is slow
TIE_CHAOS = 0.1  # charset-normalizer "chaos" scores this close are a tie
# Scripts, styles, tags and entities, in linear time on hostile input: possessive loops,
# and an unclosed <script> runs to the end instead of being retried at every "<script".
_MARKUP = re.compile(
    rb"<(script|style)\b(?:[^<]++|<(?!/\1))*+(?:</\1|\Z)|<[^<>]{0,2000}>|&#?\w{1,10};",
    re.IGNORECASE,
)
_SPACE = re.compile(rb"\s+")


def _codec(label: str | bytes | None) -> str | None:
    """The codec browsers use for a charset label, or None for an unknown or non-web one."""
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    label = (label or "").strip().strip("\"'").lower()
    for candidate in (label, label.removeprefix("x-"), re.sub(r"^windows-", "cp", label)):
        try:
            return _WEB_CODECS.get(codecs.lookup(candidate).name) if candidate else None
        except LookupError:
            continue
    return None


def _header_codec(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return _codec(match.group(1)) if match else None


def _document_codec(data: bytes) -> str | None:
    match = _DOCUMENT_CHARSET.search(data[:PRESCAN_BYTES])
    if not match:
        return None
    codec = _codec(match.group(1) or match.group(2))
    # a declaration readable as ASCII is not in UTF-16, whatever it claims
    return "utf-8" if codec and codec.startswith("utf-16") else codec


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _utf8(data: bytes) -> str | None:
    """The text if `data` is valid UTF-8, allowing one sequence cut off by its end."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:  # the first error; "end of data" only at the end
        return data.decode("utf-8", "replace") if error.reason == "unexpected end of data" else None


def _mostly_utf8(sample: bytes) -> bool:
    """More well-formed non-ASCII characters than broken bytes: UTF-8 with a few errors.
    Legacy text (é as one byte) decodes to a broken byte for nearly every letter."""
    text = sample.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return non_ascii - broken > broken


def _guess(sample: bytes) -> str | None:
    """charset-normalizer's best web encoding for the page's text.

    The detector samples a few chunks of its input; on a page those land in scripts and
    markup, where every single-byte code page is as plausible as the next (Cyrillic pages
    came out as windows-1252), so it is given the text between the tags. Among near-ties
    windows-1252 wins: on short Western-European text the detector cannot tell the Latin
    code pages apart (French comes out as cp1250), and 1252 is by far the most common.
    """
    if b"\0" not in sample:  # tags are ASCII bytes only in ASCII-compatible encodings
        sample = _SPACE.sub(b" ", _MARKUP.sub(b" ", sample))
    try:
        matches = list(from_bytes(sample, steps=10, chunk_size=1024, preemptive_behaviour=False))
    except Exception:  # noqa: BLE001 - a detector failure must not lose the document
        return None
    found = [(match.chaos, codec) for match in matches if (codec := _codec(match.encoding))]
    if not found:
        return None
    close = [codec for chaos, codec in found if chaos <= found[0][0] + TIE_CHAOS]
    return "cp1252" if "cp1252" in close else close[0]


def decode_text(data: bytes, content_type: str | None = None) -> str:
    """Decode a fetched body (`content_type` is the HTTP header); never raises."""
    if not data:
        return ""
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return data[len(mark) :].decode(codec, "replace")
    header = _header_codec(content_type)
    if header and header.startswith("utf-16") and b"\0" not in data[:PRESCAN_BYTES]:
        header = None  # markup in UTF-16 is full of NULs: a misconfigured server
    if not data.isascii() and (text := _utf8(data)) is not None:
        return text
    for declared in (header, _document_codec(data)):
        if declared and (text := _strict(data, declared)) is not None:
            return text
    if data.isascii():
        return data.decode("ascii")
    sample = data[:DETECTION_BYTES]
    if _mostly_utf8(sample):
        return data.decode("utf-8", "replace")
    return data.decode(_guess(sample) or "utf-8", "replace")


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lowercased, without its parameters."""
    return (content_type or "").split(";")[0].strip().lower()
