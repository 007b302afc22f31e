"""Where a story's publishers agree and differ, in a real browser (headless Chromium):
the section reads without JavaScript (the conflict side by side with both citations and
"Newer" on the later figure, agreements with "Reported by N of M publishers" and their
sentences behind a disclosure), nothing scrolls sideways on a phone, no serious axe-core
violation light or dark. Screenshots at 1280 and 390 px go to test-artifacts/
(browser_support.py). Skipped with the reason when chromium, chromedriver or axe-core is
missing."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from newsdesk.perspectives import alignment
from newsdesk.pipeline.enrich import enrich_articles
from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import all_css, by_css, open_page
from tests.test_claims import newsroom as italy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def story(live_server):
    cache.clear()
    articles = italy(3)
    enrich_articles([a.pk for a in articles])
    made = web_data.story_of(articles, "Floods in northern Italy")
    alignment.refresh_story(made.pk)
    yield live_server.url + made.get_absolute_url()
    cache.clear()


def test_conflicts_and_agreements_read_without_javascript(story, plain_browser):
    driver = plain_browser
    open_page(driver, story)
    section = by_css(driver, "section.clm")
    assert section.find_element("css selector", "h2").text == "Where they agree, where they differ"
    conflict = all_css(driver, ".clm-conflict")[0]
    assert conflict.find_element("css selector", ".clm-what").text == "Different figures: deaths"
    sides = conflict.find_elements("css selector", ".clm-side")
    values = [" ".join(s.find_element("css selector", ".clm-value").text.split()) for s in sides]
    assert values == ["Stated as 12 people", "Stated as 15 people Newer"]  # "Stated as" is for screen readers
    # Side by side at desktop width, each with its citations and links to the articles.
    first, second = (s.rect for s in sides)
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1
    assert "RE" in sides[0].text and "BBC" in sides[0].text and "ANSA" in sides[1].text
    assert "/articles/" in sides[1].find_element("css selector", ".clm-cite a").get_attribute("href")
    assert "killed 15 people" in sides[1].find_element("css selector", "blockquote").text
    quote = all_css(driver, ".clm-conflict")[1]
    assert "attributed to different people" in quote.text and "Mayor Luca Rossi" in quote.text
    # Agreements: the claim, how many publishers, and the sentences behind a disclosure.
    item = by_css(driver, ".clm-agreements .clm-item")
    assert "Reported by 3 of 3 publishers" in item.text
    assert not item.find_element("css selector", ".clm-cites").is_displayed()
    item.find_element("css selector", "summary").click()
    assert len(item.find_elements("css selector", ".clm-cite")) == 3


def test_the_section_passes_axe_light_and_dark_and_fits_a_phone(story, browser):
    bs.axe_source()  # skip here, with the reason, if axe-core cannot be had
    found = {}
    try:
        for width, dark in ((1280, False), (1280, True), (390, False)):
            bs.emulate(browser, width=width, height=900, mobile=width < 600, dark=dark)
            open_page(browser, story)
            label = f"{width}{' dark' if dark else ''}"
            if problems := bs.serious(bs.run_axe(browser)):
                found[label] = problems
            overflow = bs.sideways_overflow(browser)
            assert overflow <= 0, f"{label} scrolls sideways"
            for details in all_css(browser, ".clm-agreements details")[:1]:
                details.find_element("css selector", "summary").click()
            section = by_css(browser, "section.clm")
            browser.execute_script("arguments[0].scrollIntoView()", section)
            suffix = f"{width}{'-dark' if dark else ''}"
            bs.ARTIFACTS.mkdir(parents=True, exist_ok=True)
            section.screenshot(str(bs.ARTIFACTS / f"claims-section-{suffix}.png"))
            shot = bs.full_page_screenshot(browser, f"claims-story-{suffix}")
            assert shot.stat().st_size > 10_000
            if width < 600:  # stacked on a phone
                first, second = (
                    s.rect for s in all_css(browser, ".clm-conflict")[0].find_elements("css selector", ".clm-side")
                )
                assert second["y"] > first["y"] + first["height"] - 1
        assert not bs.console_errors(browser)  # no CSP violation
    finally:
        bs.reset_emulation(browser)
    assert not found, found
