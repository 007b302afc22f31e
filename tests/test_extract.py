"""The extract stage on pages written for these tests, plus one run on the shared corpus."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk.charset import decode_text
from newsdesk.extract import Extracted, ExtractionError, extract, html_to_text, sanitize_html
from tests.subprocess_json import shared_score

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
SHARED = Path(__file__).resolve().parents[2] / "shared"
URL = "https://news.example.com/local/harbour-ferry-returns?utm_source=feed"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


@pytest.fixture(scope="module")
def chrome() -> Extracted:
    return extract(page("extract_chrome.html"), URL, content_type="text/html; charset=utf-8")


# --- body: the article and nothing around it ---------------------------------------


def test_body_keeps_every_article_paragraph(chrome: Extracted) -> None:
    paragraphs = chrome.body_text.split("\n\n")
    assert len(paragraphs) == 6
    assert paragraphs[0].startswith("The little ferry that links the old town")
    assert paragraphs[-1].startswith("The harbour master said the board would review")
    assert "The full refit report is published on its website." in chrome.body_text


@pytest.mark.parametrize(
    "chrome_text",
    [
        # the aggregator's own chrome, as on the seed page
        "Hashtags",
        "Try Our AI Features",
        "Explore what",
        "Comments",
        "No comments yet",
        "Related Articles",
        "16 minutes ago",
        "an hour ago",
        "- Harbour Times",
        "Estuary bridge to close",
        "Drivers will face a diversion",
        "Fish market expansion",
        "Councillors approved plans",
        "The sailing club has fixed",
        # the publisher's chrome
        "Share on Facebook",
        "Email this story",
        "newsletter",
        "morning briefing",
        "Subscribe",
        "Most Read",
        "cookies",
        "All rights reserved",
        "Home",
        "Harbour ferry returns after a winter of repairs",  # the headline is its own field
        "Photo: Harbour Board",
    ],
)
def test_body_has_no_page_chrome(chrome: Extracted, chrome_text: str) -> None:
    assert chrome_text.lower() not in chrome.body_text.lower()
    assert chrome_text.lower() not in chrome.body_html.lower()


def test_counts(chrome: Extracted) -> None:
    assert chrome.word_count == len(chrome.body_text.split())
    assert 250 < chrome.word_count < 300
    assert chrome.reading_time_minutes == 2


@pytest.fixture(scope="module")
def inline() -> Extracted:
    return extract(page("extract_inline_chrome.html"), "https://port.example/news/deal")


def test_chrome_inside_the_article_container_is_dropped(inline: Extracted) -> None:
    paragraphs = inline.body_text.split("\n\n")
    assert len(paragraphs) == 6  # the quoted post is two: its text and its attribution
    assert paragraphs[0].startswith("Dockworkers at the city's container terminal")
    assert paragraphs[-1].startswith("Retailers welcomed the end of the dispute")
    # a social post quoted by the story is part of it, its widget box is not
    assert "The night shift is back at the east quay" in paragraphs[3]
    assert "widgets.js" not in inline.body_html
    # a tooltip inside a sentence leaves the sentence whole
    assert "the use of automated cranes on the night shift" in inline.body_text
    for chrome_text in (
        "Dockworkers agree pay deal",  # headline
        "forty ships waiting offshore",  # deck
        "By Ana Lima",
        "Glossary",
        "Read more",
        "Port strike begins",
        "Advertisement",
        "Reporting by",
        "Follow us",
        "You may also like",
        "new cranes",
        "ferry timetable",
    ):
        assert chrome_text not in inline.body_text


def test_metadata_from_plain_meta_tags(inline: Extracted) -> None:
    assert inline.title == "Dockworkers agree pay deal after three-day strike"
    assert inline.byline == "Ana Lima"
    assert inline.published == datetime(2024, 6, 11, 20, 45, tzinfo=UTC)
    assert inline.language == "en"  # guessed from the text: the page declares none
    assert inline.canonical_url is None
    assert inline.lead_image is None


# --- metadata ----------------------------------------------------------------------


def test_metadata_from_json_ld_and_opengraph(chrome: Extracted) -> None:
    assert chrome.title == "Harbour ferry returns after a winter of repairs"
    assert chrome.byline == "Jane Doe and John Roe"
    assert chrome.published == datetime(2024, 3, 5, 7, 30, tzinfo=UTC)
    assert chrome.published.utcoffset() == timedelta(hours=1)
    assert chrome.modified == datetime(2024, 3, 5, 11, 15, tzinfo=UTC)
    assert chrome.language == "en"
    assert chrome.site_name == "The Example Courier"
    assert chrome.description.startswith("The harbour ferry is back on the water")
    assert chrome.lead_image == "https://news.example.com/media/2024/ferry-lead.jpg"


def test_canonical_url_is_absolute_and_without_tracking(chrome: Extracted) -> None:
    assert chrome.canonical_url == "https://news.example.com/local/harbour-ferry-returns"


def test_no_canonical_when_the_page_gives_none() -> None:
    result = extract(page("extract_hostile.html"), "https://city.example/news/1?utm_source=x")
    assert result.canonical_url is None


def test_dates_without_zone_are_utc() -> None:
    html = page("extract_hostile.html").replace(
        b"<title>", b'<meta property="article:published_time" content="2024-01-02T03:04:05"><title>'
    )
    result = extract(html, "https://city.example/news/1")
    assert result.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result.published.tzinfo is not None


def test_publisher_section_labels_from_meta_and_json_ld() -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "x", "articleSection": ["Sport", "Football", "Sport"]})
    html = page("extract_hostile.html").replace(
        b"<title>",
        b'<meta property="article:section" content="Sport"><meta property="article:section" content="'
        + b"keyword " * 30
        + b'"><script type="application/ld+json">'
        + ld.encode()
        + b"</script><title>",
    )
    result = extract(html, "https://city.example/news/1")
    # repeated tags and list values read in order, each once; a keyword dump is no label
    assert result.sections == ("Sport", "Football")
    assert extract(page("extract_hostile.html"), "https://city.example/news/1").sections == ()


def test_relative_links_made_absolute(chrome: Extracted) -> None:
    assert (
        '<a href="https://news.example.com/reports/ferry-refit-2024.pdf" rel="nofollow noopener">'
        "refit report</a>" in chrome.body_html
    )


def test_relative_images_made_absolute_by_the_sanitizer() -> None:
    cleaned = sanitize_html(
        '<p><img src="../img/a.jpg" alt="A"> <a href="b.html">b</a></p>',
        "https://x.example/news/1/",
    )
    assert 'src="https://x.example/news/img/a.jpg"' in cleaned
    assert 'alt="A"' in cleaned
    assert 'href="https://x.example/news/1/b.html"' in cleaned


# --- hostile input -----------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile() -> Extracted:
    return extract(page("extract_hostile.html"), "https://city.example/news/cycle-lanes")


@pytest.mark.parametrize(
    "bad",
    [
        "<script",
        "alert(",
        "onerror",
        "onclick",
        "onmouseover",
        "onload",
        "javascript:",
        "<iframe",
        "IFRAME FALLBACK TEXT",
        "<style",
        "SHOULD NOT APPEAR",
        "document.cookie",
        "<form",
        "password",
        "evil.example",
    ],
)
def test_hostile_markup_is_gone(hostile: Extracted, bad: str) -> None:
    assert bad not in hostile.body_html
    assert bad not in hostile.body_text


def test_hostile_page_keeps_its_article(hostile: Extracted) -> None:
    assert hostile.body_text.startswith("The city council voted on Wednesday night")
    assert "five thousand cyclists a day" in hostile.body_text
    assert 'href="https://city.example/transport/cycling-plan"' in hostile.body_html
    assert "Read the campaign's response" in hostile.body_text


def test_sanitizer_allow_list() -> None:
    dirty = (
        '<div class="x" style="color:red"><h1>T</h1><p onclick="x()">Hi <b>b</b> <em>e</em></p>'
        '<table><tr><td colspan="2" onclick="y()">c</td></tr></table><svg><text>s</text></svg>'
        '<a href="https://ok.example/" target="_blank">ok</a><video src="v.mp4"></video></div>'
    )
    cleaned = sanitize_html(dirty, None)
    assert "<div" not in cleaned and "style=" not in cleaned and "onclick" not in cleaned
    assert "<svg" not in cleaned and "<video" not in cleaned and "target=" not in cleaned
    assert '<td colspan="2">c</td>' in cleaned
    assert '<a href="https://ok.example/" rel="nofollow noopener">ok</a>' in cleaned
    assert "<b>b</b>" in cleaned and "<em>e</em>" in cleaned


def _article(paragraphs: int) -> str:
    sentence = "The committee met again on Thursday to discuss the budget for the coming year. "
    return "".join(f"<p>{sentence * 4}</p>" for _ in range(paragraphs))


def test_deeply_nested_markup_does_not_crash() -> None:
    depth = 5000
    html = (
        "<html><head><title>Deep</title></head><body><article>"
        + _article(3)
        + "<div>" * depth
        + "deep text"
        + "</div>" * depth
        + "</article></body></html>"
    )
    result = extract(html, "https://x.example/deep")
    assert "The committee met again" in result.body_text
    # libxml2 stops descending at its depth limit; what matters is that nothing breaks
    assert isinstance(html_to_text("<div>" * depth + "inner" + "</div>" * depth), str)


def test_five_megabyte_page_is_handled_quickly() -> None:
    filler = "".join(
        f'<div class="teaser"><a href="/story/{i}">Story number {i} in the archive</a></div>' for i in range(70_000)
    )
    html = (
        "<html><head><title>Big</title></head><body><article>" + _article(8) + "</article>" + filler + "</body></html>"
    )
    assert len(html) > 5_000_000
    started = time.perf_counter()
    result = extract(html.encode("utf-8"), "https://x.example/big")
    assert time.perf_counter() - started < 60
    assert "The committee met again" in result.body_text


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        b"",
        b"\x00\x01\x02\xff\xfe" * 2000,
        "<html><body></body></html>",
        "<html><body><div></div></body></html>",
    ],
)
def test_empty_or_garbage_page_raises_extraction_error(junk: str | bytes) -> None:
    with pytest.raises(ExtractionError):
        extract(junk, "https://x.example/empty")
    assert issubclass(ExtractionError, ValueError)


@pytest.mark.parametrize("url", [None, "not a url", "http://[::1", "ftp://x.example/a", "javascript:alert(1)"])
def test_unusable_page_url_is_ignored(url: str | None) -> None:
    result = extract(page("extract_hostile.html"), url)
    assert result.body_text.startswith("The city council voted")
    assert "javascript:" not in result.body_html


def test_broken_markup_still_extracts() -> None:
    html = (
        "<html><body><article><p>"
        + "Unclosed paragraph about the budget vote that went late into the night. " * 6
        + "<p><b><i>Second paragraph with <div>broken nesting</b></i> about the mayor and the"
        " council. " * 4
    )
    result = extract(html, None)
    assert "budget vote" in result.body_text


# --- character sets ----------------------------------------------------------------


def test_header_charset_beats_wrong_meta_charset() -> None:
    result = extract(
        page("extract_meta_mismatch.html"),
        "https://x.example/zurich",
        content_type="text/html; charset=UTF-8",
    )
    assert "Café Brändli" in result.body_text
    assert "Schwarzwälder Kirschtorte" in result.body_text
    assert "students, pensioners, tourists" in result.body_text


def test_windows_1251_without_declaration() -> None:
    result = extract(page("extract_cp1251.html"), "https://x.example/weather")
    assert result.title == "Погода: в столицу идёт оттепель"
    assert "облачная погода" in result.body_text


def test_latin1_without_declaration() -> None:
    result = extract(page("extract_latin1.html"), "https://x.example/cafe")
    assert "Hélène Müller" in result.body_text
    assert "crème brûlée" in result.body_text


def test_decode_order() -> None:
    utf8 = "<p>café</p>".encode()
    assert decode_text(utf8, "text/html; charset=utf-8") == "<p>café</p>"
    assert decode_text(b"\xef\xbb\xbf" + utf8) == "<p>café</p>"
    assert decode_text('<meta charset="iso-8859-1"><p>café</p>'.encode("cp1252")).endswith("<p>café</p>")
    assert decode_text(
        '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>мир</p>'.encode("koi8-r")
    ).endswith("<p>мир</p>")
    # an unknown header charset falls through to the next source
    assert decode_text(utf8, "text/html; charset=no-such-charset") == "<p>café</p>"


# --- feed HTML fallback ------------------------------------------------------------


def test_html_to_text_paragraphs() -> None:
    html = "<p>First <b>para</b>.</p><script>x()</script><ul><li>one</li><li>two</li></ul>tail<br>line"
    assert html_to_text(html) == "First para.\n\none\n\ntwo\n\ntail\nline"
    assert html_to_text("") == ""


def test_the_language_is_the_texts_own_when_it_can_tell() -> None:
    """Extraction stores the language the text is in (newsdesk/language.py); the page's
    declaration only decides when the text is too short to tell."""
    from newsdesk.language import text_language

    french = (
        "Le café de la gare a rouvert ses portes et les habitués sont revenus pour le petit déjeuner avec des "
        "croissants. La patronne, qui tient la maison depuis vingt ans, a refait la salle et la terrasse pendant "
        "l'été, et les voyageurs du premier train s'y arrêtent de nouveau avant de partir au travail."
    )
    german = (
        "Die Bürger der Stadt waren mit der Entscheidung des Rates nicht zufrieden und haben sich beschwert. "
        "Der Bürgermeister will nun in der nächsten Woche mit den Anwohnern sprechen, bevor die Bauarbeiten an "
        "der Brücke beginnen, die seit dem Frühjahr für den Verkehr gesperrt ist."
    )
    korean = "오늘 서울의 날씨는 맑고 기온은 영상 10도까지 오를 것으로 예상됩니다. " * 6
    assert text_language(french) == "fr"
    assert text_language(german, declared="en") == "de"  # a template's lang="en" loses to the text
    assert text_language(korean) == "ko"
    assert text_language("12345 67890") == ""
    assert text_language("Too short to tell.", declared="fr-FR") == "fr"
    page = f"<html lang='en'><head><title>Brücke</title></head><body><article><h1>Brücke</h1><p>{german}</p><p>{german}</p></article></body></html>"
    assert extract(page, "https://example.de/a").language == "de"


# --- which headline, which date, clean text (issue 14) ------------------------------


def _page_with(head: str, body: str = "") -> bytes:
    paragraphs = "".join(
        f"<p>{sentence} The council met again on Tuesday to discuss the plan in detail with residents.</p>"
        for sentence in ("The ferry returns.", "Repairs took a year.", "Tickets are on sale.", "The mayor was there.")
    )
    return f"<html><head>{head}</head><body><article>{body}{paragraphs}</article></body></html>".encode()


def test_escapes_are_decoded_once() -> None:
    from newsdesk.extract.escapes import unescape_once

    assert unescape_once("Trump&#039;s") == "Trump's"
    assert unescape_once("war.&nbsp; &quot;We") == 'war.  "We'
    assert unescape_once("AT&T, Q&A, R&D, Marks &copy and &amp ") == "AT&T, Q&A, R&D, Marks &copy and &amp "
    assert unescape_once("AT&amp;amp;T") == "AT&amp;T"  # once, not until nothing is left
    assert unescape_once("&#x27;quoted&#x27; &unknown;") == "'quoted' &unknown;"


def test_double_escaped_metadata_reads_as_meant() -> None:
    found = extract(
        _page_with(
            '<meta property="og:title" content="Trump&amp;#039;s call">'
            '<meta name="description" content="a trade war.&amp;nbsp; &amp;quot;We talk">'
            '<meta name="author" content="Dara O&amp;#039;Brien">'
        ),
        URL,
    )
    assert (found.title, found.description, found.byline) == ("Trump's call", 'a trade war.  "We talk', "Dara O'Brien")


def test_a_cut_social_headline_gives_way_to_the_pages_own() -> None:
    found = extract(
        _page_with(
            '<meta property="og:title" content="House Hitler was born in will become a...">',
            "<h1>House Hitler was born in will become a police station, Austria says</h1>",
        ),
        URL,
    )
    assert found.title == "House Hitler was born in will become a police station, Austria says"


def test_choose_title() -> None:
    from newsdesk.extract.choose import choose_title

    full = "House Hitler was born in will become a police station, Austria says"
    assert choose_title("House Hitler was born in will become a police…", full) == full  # cut
    assert choose_title("House Hitler was born in will become a police...", full) == full
    assert choose_title("House Hitler was born in", full) == full  # a prefix
    assert choose_title("Beauty stock Coty could surge", "One of the top beauty stocks could surge") == (
        "One of the top beauty stocks could surge"  # shorter
    )
    assert choose_title(f"{full} - NBC News", full) == full  # the feed added the site's name
    assert choose_title(full, f"{full} | NBC News") == full  # ...or the page did
    assert (
        choose_title("A long and proper headline from the feed", "엔터 미디어")
        == "A long and proper headline from the feed"
    )
    assert choose_title("Brexit: MPs vote on the deal tonight", "Brexit") == "Brexit: MPs vote on the deal tonight"
    assert choose_title(None, full) == full and choose_title(full, None) == full and choose_title("", "") is None


def test_url_dates() -> None:
    from datetime import date

    from newsdesk.extract.choose import url_date

    assert url_date("https://www.cnbc.com/2019/11/20/emirates-order.html") == (date(2019, 11, 20), True)
    assert url_date("https://www.theguardian.com/world/2019/nov/18/hong-kong") == (date(2019, 11, 18), True)
    assert url_date("https://a.example/news/2019-11-19-storm-warning") == (date(2019, 11, 19), True)
    assert url_date("https://www.vox.com/science/2019/11/8/20948348/delhi") == (date(2019, 11, 8), True)
    assert url_date("https://www.nj.com/entertainment/2019/11/meth-campaign.html") == (date(2019, 11, 1), False)
    assert url_date("https://phys.org/news/2019-11-hibernating-astronauts.html") == (date(2019, 11, 1), False)
    for none in (
        "https://a.example/news/123456",
        "https://a.example/2019/13/45/x",
        "https://a.example/1850/01/02/x",
        "",
    ):
        assert url_date(none) is None, none


def test_choose_published() -> None:
    from newsdesk.extract.choose import choose_published

    usatoday = "https://www.usatoday.com/story/news/politics/2019/11/19/prison-guards/4082679002/"
    caption = datetime(2017, 3, 28, tzinfo=UTC)
    feed = datetime(2019, 11, 19, 21, 5, tzinfo=UTC)
    page = datetime(2019, 11, 19, 18, 30, tzinfo=UTC)
    noon = datetime(2019, 11, 19, 12, tzinfo=UTC)
    # The address's day beats a date years off, whether guessed or declared...
    assert choose_published(caption, guessed=True, feed=feed, urls=["http://127.0.0.1/x", usatoday]) == feed
    assert choose_published(caption, guessed=False, urls=[usatoday]) == noon
    assert choose_published(None, feed=datetime(2026, 1, 1, tzinfo=UTC), urls=[usatoday]) == noon
    # ...and keeps a page date that agrees with it (time zones move it a day).
    assert choose_published(page, feed=feed, urls=[usatoday]) == page
    assert choose_published(page + timedelta(days=1), urls=[usatoday]) == page + timedelta(days=1)
    # Without one, a guessed page date gives way to the feed's, a declared one does not.
    assert choose_published(caption, guessed=True, feed=feed) == feed
    assert choose_published(caption, guessed=False, feed=feed) == caption
    assert choose_published(None, feed=feed) == feed and choose_published(None) is None


def test_guessed_dates_are_marked() -> None:
    declared = extract(_page_with('<meta property="article:published_time" content="2019-11-19T10:00:00Z">'), URL)
    assert declared.published == datetime(2019, 11, 19, 10, tzinfo=UTC) and not declared.published_guessed
    guessed = extract(_page_with("", '<p class="date">Published 19 November 2019</p>'), URL)
    assert guessed.published is not None and guessed.published_guessed


def test_package_does_not_import_django() -> None:
    code = "import sys, newsdesk.extract; sys.exit(1 if 'django' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the shared benchmark ----------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_f1(tmp_path: Path) -> None:
    corpus = SHARED / "corpora" / "extraction"
    scorer = SHARED / "eval" / "score.py"
    if not corpus.is_dir() or not scorer.is_file():
        pytest.skip("../shared corpora are not available")
    from bench.extraction import predict_extraction

    output = tmp_path / "extraction.json"
    summary = predict_extraction(corpus, output)
    assert summary["pages"] > 0
    metrics = shared_score("extraction", corpus, output)
    assert metrics["f1"] >= 0.965, metrics
