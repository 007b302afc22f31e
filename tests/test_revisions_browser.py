"""What changed, in a real browser (headless Chromium): an article corrected and then
updated shows "Corrected" by its date, the correction note in the open, and each change
collapsed until opened, without JavaScript; the removed and added words are struck
through and underlined; nothing scrolls sideways on a phone, and axe-core finds no
serious violation, light and dark. Screenshots at 1280 and 390 px go to test-artifacts/.
Skipped with the reason when chromium, chromedriver or axe-core is missing."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleRevision
from newsdesk.articles.store import ArticleData, save_article
from newsdesk.sources.models import Source
from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import all_css, by_css, open_page
from tests.test_revisions import CORRECTED_LEAD, LEAD, NOTE, REST

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

QUOTE = (
    '"We are still searching for four people who are missing," the county commissioner told '
    "reporters at the harbour on Monday morning, adding that divers would resume at first light."
)


def version(source: Source, title: str, paragraphs: list[str]) -> Article:
    article, _ = save_article(
        ArticleData(
            url="https://coast.example/2026/11/30/ferry",
            source_id=source.pk,
            title=title,
            byline="Amina Wanjiru",
            language="en",
            body_text="\n\n".join(paragraphs),
            body_html="".join(f"<p>{html.escape(p)}</p>" for p in paragraphs),
            word_count=len(" ".join(paragraphs).split()),
            reading_time=1,
            published_at=timezone.now() - timedelta(hours=5),
        )
    )
    return article


@pytest.fixture
def corrected(live_server):
    """An article first stored 5 hours ago, corrected 2 hours ago, updated 20 minutes ago."""
    cache.clear()
    source = web_data.source("coast-news", "Coast News", "https://coast.example/", country="KE")
    version(source, "Ferry capsizes off Lamu", [LEAD, *REST])
    version(source, "Ferry capsizes off Lamu", [CORRECTED_LEAD, *REST, NOTE])
    article = version(source, "Ferry capsizes off Lamu, 15 dead", [CORRECTED_LEAD, REST[0], QUOTE, *REST[1:], NOTE])
    now = timezone.now()
    first, second = ArticleRevision.objects.order_by("id")
    ArticleRevision.objects.filter(pk=first.pk).update(revised_at=now - timedelta(hours=2))
    ArticleRevision.objects.filter(pk=second.pk).update(revised_at=now - timedelta(minutes=20))
    web_data.enrich(article, summary=f"{CORRECTED_LEAD} {REST[0]}")
    cache.clear()
    yield live_server.url, article
    cache.clear()


def shown(driver, element) -> str:
    """The text a sighted reader sees: without the visually hidden markers (1 px boxes)."""
    return driver.execute_script(
        "const c = arguments[0].cloneNode(true); c.querySelectorAll('.visually-hidden').forEach(e => e.remove());"
        "return c.textContent",
        element,
    )


def test_what_changed_reads_without_javascript(corrected, plain_browser):
    base, article = corrected
    driver = plain_browser
    open_page(driver, base + article.get_absolute_url())
    flag = by_css(driver, ".article-header .rev-flag")
    assert flag.text == "Corrected" and flag.get_attribute("href").endswith("#what-changed")
    meta = " ".join(by_css(driver, ".article-header .meta").text.split())
    assert "Corrected 2 hours ago, updated 20 minutes ago" in meta
    box = by_css(driver, "#what-changed")
    assert "has changed this article 2 times since newsdesk first stored it, with a correction" in box.text
    items = all_css(driver, ".rev")
    assert len(items) == 2
    newest, oldest = items
    assert "Updated 20 minutes ago" in " ".join(newest.text.split())
    assert "Corrected 2 hours ago" in " ".join(oldest.text.split())
    # The note is in the open; the diff waits until its change is opened.
    note = oldest.find_element("css selector", ".rev-note")
    assert note.is_displayed() and "misstated the number of people killed" in note.text
    assert not oldest.find_element("css selector", ".rev-diff").is_displayed()
    oldest.find_element("css selector", "summary").click()
    removed = oldest.find_element("css selector", ".rev-diff del")
    added = oldest.find_element("css selector", ".rev-diff ins")
    assert removed.is_displayed() and shown(driver, removed) == "12" and shown(driver, added) == "15"
    assert "line-through" in removed.value_of_css_property("text-decoration-line")
    assert "underline" in added.value_of_css_property("text-decoration-line")
    # The spoken markers are there for screen readers, and hidden from sight.
    assert removed.get_attribute("textContent") == "[removed: 12]"
    assert added.get_attribute("textContent") == "[added: 15]"
    assert "3 unchanged paragraphs" in oldest.text
    newest.find_element("css selector", "summary").click()
    headline = newest.find_element("css selector", ".rev-field").text
    assert headline.startswith("HEADLINE") or headline.startswith("Headline")
    assert shown(driver, newest.find_element("css selector", ".rev-field ins")) == ", 15 dead"
    assert shown(driver, newest.find_element("css selector", ".rev-para ins")) == QUOTE


def test_what_changed_passes_axe_light_and_dark_and_fits_a_phone(corrected, browser):
    base, article = corrected
    bs.axe_source()  # skip here, with the reason, if axe-core cannot be had
    found = {}
    try:
        for width, dark in ((1280, False), (1280, True), (390, False), (390, True)):
            bs.emulate(browser, width=width, height=900, mobile=width < 600, dark=dark)
            open_page(browser, base + article.get_absolute_url())
            browser.execute_script("document.querySelectorAll('#what-changed details').forEach(d => d.open = true)")
            label = f"{width}{' dark' if dark else ''}"
            if problems := bs.serious(bs.run_axe(browser)):
                found[label] = problems
            overflow = bs.sideways_overflow(browser)
            assert overflow <= 0, f"{label} scrolls sideways"
            browser.execute_script("document.getElementById('what-changed').scrollIntoView()")
            shot = bs.full_page_screenshot(browser, f"revisions-article-{width}{'-dark' if dark else ''}")
            assert shot.stat().st_size > 10_000
        assert not bs.console_errors(browser)  # no CSP violation
    finally:
        bs.reset_emulation(browser)
    assert not found, found
