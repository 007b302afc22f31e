"""Perspectives in a real browser (headless Chromium): a story's coverage breakdown and
the blindspots page read without JavaScript (bars drawn, each part's publishers listed,
the rules' anchors reachable), nothing sideways on a phone, and no serious axe-core
violation on the story, blindspots, publisher, article, home and story-list pages, light
and dark. Screenshots at 1280 and 390 px go to test-artifacts/ (browser_support.py).
Skipped with the reason when chromium, chromedriver or axe-core is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from newsdesk.perspectives import profiles
from newsdesk.pipeline.add import load_default_publishers
from newsdesk.sources.models import Source
from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import all_css, by_css, open_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@dataclass
class Newsroom:
    balanced: object  # no blindspot
    state_only: object
    commercial_only: object  # covered widely, by no public broadcaster or state outlet
    asian: object  # mostly one region
    article: object


def build_newsroom() -> Newsroom:
    """The default publishers with their bundled profiles, and one story per case."""
    load_default_publishers()
    profiles.forget()
    by_slug = {s.slug: s for s in Source.objects.all()}
    now = timezone.now()
    made: dict[str, object] = {}
    first_article = None
    cases = {
        "balanced": ("Ceasefire talks resume in Doha", ["bbc-news", "npr", "al-jazeera", "xinhua", "ansa"]),
        "state_only": ("Delegations sign a grain agreement in Beijing", ["xinhua", "cgtn", "tass"]),
        "commercial_only": (
            "Chip maker's shares fall after a weak forecast",
            ["the-guardian", "new-york-times", "fox-news", "le-monde", "times-of-india", "scmp"],
        ),
        "asian": (
            "Monsoon floods close schools across the region",
            ["times-of-india", "the-hindu", "japan-times", "scmp", "yonhap"],
        ),
    }
    for n, (key, (title, slugs)) in enumerate(cases.items()):
        items = [
            web_data.article(
                by_slug[slug],
                1000 * n + k,
                title=f"{title}: {by_slug[slug].name} reports",
                published=now - timedelta(minutes=10 * n + k),
                body_text=f"{title}. Officials spoke on Tuesday. More details are expected.",
                byline="Staff reporter",
            )
            for k, slug in enumerate(slugs)
        ]
        for item in items:
            web_data.enrich(item, summary=f"{title}.")
        first_article = first_article or items[0]
        made[key] = web_data.story_of(items, title)
    return Newsroom(made["balanced"], made["state_only"], made["commercial_only"], made["asian"], first_article)


@pytest.fixture
def newsroom(live_server):
    cache.clear()
    profiles.forget()
    world = build_newsroom()
    yield live_server.url, world
    cache.clear()
    profiles.forget()


def widths(driver, selector: str) -> list[float]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.getBoundingClientRect().width)", selector
    )


def test_the_breakdown_and_the_blindspots_read_without_javascript(newsroom, plain_browser):
    base, world = newsroom
    driver = plain_browser
    open_page(driver, base + world.balanced.get_absolute_url())
    box = by_css(driver, "section.cov")
    assert "5 publishers" in box.text
    regions = by_css(driver, ".cov-dim:first-child")
    assert regions.find_element("css selector", "h3").text == "Region and country"
    # The bar is drawn, its segments in proportion: Europe 2 of 5, the others 1 each.
    bar = widths(driver, ".cov-dim:first-child .cov-bar")[0]
    segments = widths(driver, ".cov-dim:first-child .cov-seg")
    assert len(segments) == 4 and abs(sum(segments) - bar) < 2
    assert abs(segments[0] / bar - 0.4) < 0.02
    # The same in words, with who is behind each part.
    items = [" ".join(li.text.split()) for li in regions.find_elements("css selector", ".cov-parts > li")]
    assert items[0] == "Europe 2 publishers, (40%) Italy: ANSA; United Kingdom: BBC News"
    assert "Blindspot" not in box.text

    open_page(driver, base + world.state_only.get_absolute_url())
    flag = by_css(driver, ".cov-flags")
    assert "Only state-affiliated outlets" in flag.text and "CGTN, TASS and Xinhua" in flag.text
    flag.find_element("css selector", "a").click()  # to the rule, on the blindspots page
    assert driver.current_url.endswith("/stories/blindspots/#rule-state-only")
    rule = by_css(driver, "#rule-state-only")
    assert "Delegations sign a grain agreement" in rule.text
    assert "every one of them state-affiliated" in rule.text
    assert "Ceasefire talks" not in by_css(driver, "main").text
    missing = by_css(driver, "#rule-missing-kind").text
    assert "Chip maker's shares fall" in missing and "none of them a public broadcaster" in missing
    assert "Monsoon floods" in by_css(driver, "#rule-one-region").text
    # Each story's compact bar is drawn too.
    assert all(w > 0 for w in widths(driver, "#rule-state-only .cov-seg"))


def test_a_publisher_page_and_every_byline_show_the_profile(newsroom, plain_browser):
    base, world = newsroom
    driver = plain_browser
    open_page(driver, base + "/sources/tass/")
    facts = by_css(driver, ".src-facts").text
    assert "State-affiliated" in facts and "Founded\n1904" in facts.replace(" source", "")
    assert all_css(driver, ".src-facts a.fact-source")[0].get_attribute("href").startswith("https://")
    open_page(driver, base + world.article.get_absolute_url())
    assert "(public broadcaster, United Kingdom)" in by_css(driver, ".article-header").text


PAGES = {
    "story": lambda w: w.commercial_only.get_absolute_url(),
    "story-flagged": lambda w: w.state_only.get_absolute_url(),
    "blindspots": lambda w: "/stories/blindspots/",
    "source": lambda w: "/sources/bbc-news/",
    "article": lambda w: w.article.get_absolute_url(),
    "home": lambda w: "/",
    "stories": lambda w: "/stories/",
}


def test_perspectives_pages_pass_axe_light_and_dark_and_fit_a_phone(newsroom, browser):
    base, world = newsroom
    bs.axe_source()  # skip here, with the reason, if axe-core cannot be had
    found = {}
    try:
        for width, dark in ((1280, False), (1280, True), (390, False)):
            bs.emulate(browser, width=width, height=900, mobile=width < 600, dark=dark)
            for name, path in PAGES.items():
                open_page(browser, base + path(world))
                label = f"{name} {width}{' dark' if dark else ''}"
                if problems := bs.serious(bs.run_axe(browser)):
                    found[label] = problems
                overflow = bs.sideways_overflow(browser)
                assert overflow <= 0, f"{label} scrolls sideways"
                if name in ("story", "story-flagged", "blindspots"):
                    shot = bs.full_page_screenshot(browser, f"perspectives-{name}-{width}{'-dark' if dark else ''}")
                    assert shot.stat().st_size > 10_000
        assert not bs.console_errors(browser)  # no CSP violation: no inline style anywhere
    finally:
        bs.reset_emulation(browser)
    assert not found, found
