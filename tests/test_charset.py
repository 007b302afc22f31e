"""The one charset policy (newsdesk/charset.py): each rule, and what breaks without it."""

from __future__ import annotations

import codecs
import itertools
import random

import pytest

from newsdesk.charset import decode_text
from newsdesk.extract import pipeline as extract_pipeline
from newsdesk.pipeline.add import add_url
from newsdesk.sources import http as http_module
from tests.fixtureserver import FixtureServer, Reply
from tests.pages import article_page, fetched

FRENCH = "Déjà vu : le café est naïf, à la française ; les élèves répètent près de la fenêtre."
RUSSIAN = "Синоптики обещают снег и сильный ветер в выходные."
POLISH = "Rząd ogłosił nowe przepisy; opozycja żąda wyjaśnień w sprawie cen energii."


# --- 1. a byte-order mark beats every declaration --------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # without the BOM rule: UTF-8 (valid) but with a stray U+FEFF in front
        (codecs.BOM_UTF8 + FRENCH.encode(), "text/html; charset=windows-1251"),
        # without it: the header's windows-1252 reads the UTF-16 bytes as Latin junk
        (codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le"), "text/html; charset=iso-8859-1"),
        (codecs.BOM_UTF16_BE + FRENCH.encode("utf-16-be"), "text/html; charset=utf-8"),
        (codecs.BOM_UTF32_LE + FRENCH.encode("utf-32-le"), "text/html; charset=utf-16"),
        (
            codecs.BOM_UTF16_LE + ('<meta charset="koi8-r">' + FRENCH).encode("utf-16-le"),
            "text/html",
        ),
    ],
)
def test_bom_wins_over_header_and_meta(body: bytes, content_type: str) -> None:
    assert decode_text(body, content_type).removeprefix('<meta charset="koi8-r">') == FRENCH


# --- 2. then the Content-Type charset ----------------------------------------------------


def test_header_charset_is_used_and_beats_the_meta_declaration() -> None:
    body = b'<meta charset="koi8-r"><p>' + RUSSIAN.encode("cp1251")
    # koi8-r decodes any byte, so obeying the meta instead would give junk, not an error
    assert decode_text(body, "text/html; charset=windows-1251").endswith(RUSSIAN)


def test_header_charset_decodes_a_seven_bit_encoding() -> None:
    japanese = "<p>東京の天気は晴れです。</p>"
    body = japanese.encode("iso2022_jp")
    assert body.isascii()  # without the header it would stay escape sequences
    assert decode_text(body, "text/html; charset=ISO-2022-JP") == japanese


def test_utf16_header_without_bom() -> None:
    assert decode_text(FRENCH.encode("utf-16-be"), "application/xml; charset=utf-16be") == FRENCH
    # a bare "utf-16" label means little-endian on the web
    assert decode_text(FRENCH.encode("utf-16-le"), "text/html; charset=utf-16") == FRENCH
    # ...but a UTF-16 label over bytes without a single NUL is a misconfiguration (these
    # even-length ASCII bytes would decode as UTF-16 without error, as CJK junk)
    ascii_page = b"<p>plain ASCII pages</p>"
    assert decode_text(ascii_page, "text/html; charset=utf-16") == ascii_page.decode()


# --- 3. then the document's own declaration ----------------------------------------------


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="{}">',
        "<meta charset={}>",
        '<meta http-equiv="Content-Type" content="text/html; charset={}">',
        '<?xml version="1.0" encoding="{}"?>',
    ],
)
@pytest.mark.parametrize("content_type", [None, "text/html", "text/html; charset=no-such-thing"])
@pytest.mark.parametrize(
    ("text", "label"),
    # the detector alone reads this Polish as iso-8859-10 (ogģosiģ) and this Russian as
    # windows-1251 junk
    [(POLISH, "ISO-8859-2"), (RUSSIAN[:24], "koi8-r")],
)
def test_document_declaration_is_used_without_a_usable_header(
    declaration: str, content_type: str | None, text: str, label: str
) -> None:
    page = declaration.format(label) + "<p>" + text
    assert decode_text(page.encode(label), content_type) == page


def test_a_utf16_meta_declaration_means_utf8() -> None:
    # if the <meta> can be read as ASCII, the page is not UTF-16; these bodies have an
    # even length, so obeying the label would decode them as UTF-16 junk without error
    for page, codec in [
        ('<meta charset="utf-16"><p>plains</p>', "ascii"),
        ('<meta charset="utf-16"><p>déjà vu au café crème !!</p>', "cp1252"),
    ]:
        assert len(page.encode(codec)) % 2 == 0
        assert decode_text(page.encode(codec)) == page


# --- 4. valid UTF-8 beats a wrong declaration ---------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "content_type"),
    [
        (b"", "text/html; charset=iso-8859-1"),
        (b"", "text/html; charset=windows-1251"),
        (b'<meta charset="windows-1252">', None),
        (b'<meta charset="koi8-r">', "text/html"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?>', "application/rss+xml"),
    ],
)
def test_valid_utf8_wins_over_a_wrong_declaration(prefix: bytes, content_type: str | None) -> None:
    # every one of these labels decodes the UTF-8 bytes without error, as mojibake
    assert decode_text(prefix + FRENCH.encode(), content_type) == prefix.decode() + FRENCH
    assert decode_text(prefix + RUSSIAN.encode(), content_type) == prefix.decode() + RUSSIAN


def test_utf8_cut_off_mid_character_is_still_utf8() -> None:
    body = FRENCH.encode()[:-2] + "é".encode()[:1]  # "...fenêtr" + half an "é"
    assert decode_text(body, "text/html; charset=iso-8859-1") == FRENCH[:-2] + "\ufffd"


def test_a_declared_charset_that_cannot_decode_is_skipped() -> None:
    # UTF-8 declared over windows-1252 bytes: the bytes win, not replacement characters
    assert decode_text(FRENCH.encode("cp1252"), "text/html; charset=utf-8") == FRENCH


# --- 5. labels mean what browsers make of them; other codecs are not obeyed ------------------


def test_latin1_label_means_windows_1252() -> None:
    body = "“Quoted” – text…".encode("cp1252")
    assert decode_text(body, "text/html; charset=ISO-8859-1") == "“Quoted” – text…"


def test_shift_jis_label_means_cp932() -> None:
    # ① exists in Microsoft's Shift_JIS only; too short a text for the detector to find
    assert decode_text("<p>①</p>".encode("cp932"), "text/html; charset=Shift_JIS") == "<p>①</p>"


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-", "utf-7"),
        (b"\\u003cscript\\u003ealert(1)", "unicode_escape"),
        (b"\\x3cscript\\x3ealert(1)", "raw_unicode_escape"),
        (b"PHNjcmlwdD4=", "base64"),
    ],
)
def test_non_web_encodings_are_not_obeyed(body: bytes, label: str) -> None:
    assert decode_text(body, f"text/html; charset={label}") == body.decode("ascii")
    assert decode_text(f'<meta charset="{label}">'.encode() + body) == (
        f'<meta charset="{label}">' + body.decode("ascii")
    )


# --- 6. nothing declared: UTF-8 with a few broken bytes, else a guess ------------------------


def test_mostly_utf8_keeps_its_characters() -> None:
    body = FRENCH.encode().replace("café".encode(), b"caf\xe9")  # one windows-1252 byte
    assert decode_text(body, "text/html") == FRENCH.replace("café", "caf\ufffd")


@pytest.mark.parametrize(("text", "codec"), [(FRENCH, "cp1252"), (RUSSIAN, "cp1251")])
def test_undeclared_legacy_text_is_detected(text: str, codec: str) -> None:
    assert decode_text(f"<p>{text}</p>".encode(codec)) == f"<p>{text}</p>"


def test_utf16_without_bom_or_header_is_detected() -> None:
    doc = '<?xml version="1.0" encoding="utf-16"?><rss><title>Café in Zürich – Вести</title></rss>'
    assert decode_text(doc.encode("utf-16-be"), "application/xml") == doc
    assert decode_text(doc.encode("utf-16-le")) == doc


def test_detection_reads_the_text_not_the_markup() -> None:
    # a real page: kilobytes of scripts and tags around a few paragraphs, nothing declared;
    # fed the raw bytes, the detector samples mostly markup and settles on windows-1252
    config = ", ".join(f'"k{n}": {n}' for n in range(3000))
    nav = "".join(f'<li class="nav"><a href="/section/{n}">Section {n}</a></li>' for n in range(300))
    page = (
        f"<html><head><script>var config = {{{config}}};</script></head>"
        f"<body><ul>{nav}</ul><p>{RUSSIAN}</p><p>{RUSSIAN}</p></body></html>"
    )
    assert decode_text(page.encode("cp1251"), "text/html") == page


# --- 7. never raises ---------------------------------------------------------------------------

CONTENT_TYPES = [
    None,
    "",
    "text/html",
    "text/html; charset=utf-8",
    "text/html; charset=utf-16",
    "text/html; charset=utf-16be",
    "text/html; charset=iso-2022-jp",
    "text/html; charset=shift_jis",
    "text/html; charset=gb18030",
    "text/html; charset=utf-7",
    'text/html; charset=""',
    "text/html; charset=",
    "text/html; charset=" + "x" * 10_000,
]


def test_undecodable_bytes_become_replacement_characters() -> None:
    broken = "café, déjà, naïve ".encode() + b"\xff\xc3"
    assert decode_text(broken, "text/html; charset=utf-8") == "café, déjà, naïve \ufffd\ufffd"
    assert decode_text(codecs.BOM_UTF8 + b"ok \xff") == "ok \ufffd"
    assert decode_text(codecs.BOM_UTF16_LE + b"o\x00k\x00\x00") == "ok\ufffd"


def test_never_raises() -> None:
    rng = random.Random(20260101)
    samples = [b"", b"\0", bytes(range(256)), b"\x81\x8d\x8f\x90\x9d", b"\xff\xfe\x00", b"\x1b$B"]
    samples += [rng.randbytes(rng.randint(1, 3000)) for _ in range(60)]
    samples += [b'<meta charset="' + s[:40] + b'">' + s for s in samples[:20]]
    for body, content_type in itertools.product(samples, CONTENT_TYPES):
        assert isinstance(decode_text(body, content_type), str)


# --- 8. one decode per fetched page ------------------------------------------------------------


def test_fetch_result_decodes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting(data: bytes, content_type: str | None = None) -> str:
        calls.append(data)
        return decode_text(data, content_type)

    monkeypatch.setattr(http_module, "decode_text", counting)
    result = fetched(RUSSIAN.encode("koi8-r"), "text/plain; charset=KOI8-R")
    assert result.text() == RUSSIAN and result.text() == RUSSIAN
    assert len(calls) == 1


def test_extract_does_not_decode_text_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(extract_pipeline, "decode_text", lambda *args: calls.append(args) or "")
    page = "<html><body><article>" + "<p>A paragraph about the harbour. </p>" * 20
    extract_pipeline.extract(page + "</article></body></html>", "https://x.example/a")
    assert calls == []


@pytest.mark.django_db
def test_newsdesk_add_decodes_a_page_once(fixture_server: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> None:
    body = article_page("Харьков: снег и ветер")
    fixture_server.route("/charset/2026/01/02/snow", Reply(200, body, {"Content-Type": "text/html"}))
    calls = []

    def counting(data: bytes, content_type: str | None = None) -> str:
        calls.append(len(data))
        return decode_text(data, content_type)

    monkeypatch.setattr(http_module, "decode_text", counting)
    monkeypatch.setattr(extract_pipeline, "decode_text", counting)
    added = add_url(fixture_server.url("/charset/2026/01/02/snow"))
    assert added.article is not None and added.article.title == "Харьков: снег и ветер"
    assert calls == [len(body)]
