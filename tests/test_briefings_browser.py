"""The briefing, notifications and email-settings pages in a real browser (headless
Chromium): with JavaScript off they work as plain forms; with it, "Mark read" is swapped
in place by htmx; no serious axe-core violation, light and dark; screenshots at 1280 and
390 px (test-artifacts/briefings-*.png). Skipped with the reason when chromium,
chromedriver or axe-core is missing, as tests/test_browser.py is."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from newsdesk.reader.briefings import fanout, notifications
from newsdesk.reader.briefings.models import AlertMark, BriefingSettings
from tests import briefing_data as data
from tests import browser_support as bs
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import PASSWORD, all_css, by_css, log_in, open_page, wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
User = get_user_model()
Kind = data.Kind
PAGES = ["/reading/briefing/", "/reading/notifications/", "/reading/briefing/settings/"]


def reader_with_news():
    """A reader following a story and two hashtags, with new coverage on all of them."""
    world, grain = data.summarised_world()
    fanout.plan()
    user = User.objects.create_user("briefed-reader", "briefed@example.org", PASSWORD)
    BriefingSettings.objects.create(user=user, briefing_email=True, time_zone="Europe/Berlin", alerts_interval="hourly")
    data.follow(user, Kind.STORY, world.story.pk, world.story.title, seen_at=timezone.now())
    data.follow(user, Kind.HASHTAG, "vladimir-putin", "#Vladimir Putin")
    data.follow(user, Kind.HASHTAG, "odesa", "#Odesa")
    putin = (("vladimir-putin", "Vladimir Putin"),)
    data.coverage(
        "dw",
        801,
        title="Prisoner exchange agreed in Istanbul",
        body=data.BODIES["ceasefire"],
        story=world.story,
        hashtags=putin,
    )
    data.coverage(
        "ap",
        802,
        title="Buses with freed soldiers cross near Sumy",
        body=data.BODIES["exchange"],
        story=world.story,
        hashtags=putin,
    )
    data.coverage(
        "ap",
        803,
        title="Odesa grain ships sail again after three weeks",
        body=data.BODIES["grain"],
        story=grain,
        hashtags=(("odesa", "Odesa"),),
    )
    for batch in fanout.plan():
        fanout.run(batch)
    return user, world


def test_without_javascript_the_pages_work_as_forms(live_server, plain_browser):
    cache.clear()
    user, world = reader_with_news()
    driver = plain_browser
    driver.delete_all_cookies()
    log_in(driver, live_server.url, user.get_username(), "/reading/briefing/")
    main = by_css(driver, "main").text
    assert "What’s new on the stories you follow" in main and "Today’s top stories" in main
    cites = all_css(driver, ".briefing-sentences a.cite")
    assert cites and all("/articles/" in a.get_attribute("href") for a in cites)
    by_css(driver, ".briefing-part form button").click()  # Mark these as seen
    wait(driver, lambda d: "Nothing new on the 1 story you follow" in by_css(d, "main").text, message="seen")

    open_page(driver, live_server.url + "/reading/notifications/")
    # Three followed things had news; the story's was read by "Mark these as seen".
    assert "2 unread" in by_css(driver, ".listing-header").text
    by_css(driver, ".notification form button").click()
    wait(driver, lambda d: "1 unread" in by_css(d, ".listing-header").text, message="one read")
    by_css(driver, ".notifications-all button").click()
    wait(driver, lambda d: "All read" in by_css(d, ".listing-header").text, message="all read")
    assert notifications.unread_count(user.pk) == 0

    open_page(driver, live_server.url + "/reading/briefing/settings/")
    hour = by_css(driver, "#id_briefing_hour")
    from selenium.webdriver.support.ui import Select

    Select(hour).select_by_visible_text("06:00")
    by_css(driver, "#id_email").clear()
    by_css(driver, ".settings-form button[type=submit]").click()
    wait(driver, lambda d: "Nothing was saved" in by_css(d, "main").text, message="refused")
    assert BriefingSettings.objects.get(user=user).briefing_hour == 7
    by_css(driver, "#id_email").send_keys("briefed@example.org")
    Select(by_css(driver, "#id_briefing_hour")).select_by_visible_text("06:00")  # the page kept what was chosen
    by_css(driver, ".settings-form button[type=submit]").click()
    wait(driver, lambda d: "saved" in by_css(d, "main").text, message="saved")
    assert BriefingSettings.objects.get(user=user).briefing_hour == 6


def test_mark_read_swaps_in_place_and_the_pages_pass_axe_at_both_widths(live_server, browser):
    cache.clear()
    user, world = reader_with_news()
    driver = browser
    driver.delete_all_cookies()
    bs.console_errors(driver)
    log_in(driver, live_server.url, user.get_username(), "/reading/notifications/")
    driver.execute_script("window.__same_page = true")
    first = by_css(driver, ".notification.is-unread")
    first_id = first.get_attribute("id")
    by_css(driver, f"#{first_id} form button").click()
    wait(driver, lambda d: "is-unread" not in by_css(d, f"#{first_id}").get_attribute("class"), message="swapped")
    assert driver.execute_script("return window.__same_page === true")
    assert AlertMark.objects.filter(user=user, read_at__isnull=False).count() == 1
    assert not bs.console_errors(driver)

    # Screenshots for a reader's and a designer's eye, then axe on every page, light and dark.
    for width, mobile in ((1280, False), (390, True)):
        bs.emulate(driver, width=width, mobile=mobile)
        for path in PAGES:
            open_page(driver, live_server.url + path)
            name = path.strip("/").replace("/", "-")
            bs.full_page_screenshot(driver, f"briefings-{name}-{width}")
            overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
            assert not overflow, (path, width)
    bs.reset_emulation(driver)
    bs.axe_source()  # skip from here, with the reason, if axe-core cannot be had
    found = {}
    for dark in (False, True):
        bs.emulate(driver, width=1280, dark=dark)
        for path in PAGES:
            open_page(driver, live_server.url + path)
            if problems := bs.serious(bs.run_axe(driver)):
                found[(path, dark)] = problems
    bs.reset_emulation(driver)
    assert not found, found
    cache.clear()


def test_the_emails_html_part_reads_well_at_both_widths(live_server, browser, tmp_path, settings):
    """The HTML part as a mail client shows it (a file, no site CSS): screenshots of the
    briefing and the alert email, nothing wider than a phone's screen."""
    settings.NEWSDESK_SITE_URL = live_server.url
    cache.clear()
    user, _ = reader_with_news()
    from newsdesk.reader.briefings import mail
    from newsdesk.reader.briefings.models import Delivery

    now = timezone.now()
    for kind, content in (
        (Delivery.Kind.BRIEFING, mail.briefing_content(user.pk, now)),
        (Delivery.Kind.ALERTS, mail.alerts_content(user.pk)),
    ):
        delivery = Delivery.objects.create(
            user=user, kind=kind, period="2026-01-01", content=content, message_id="<x@example.org>", to=user.email
        )
        message = mail.message(delivery)
        [(html, _)] = message.alternatives
        page = tmp_path / f"{kind}.html"
        page.write_text(html)
        for width, mobile in ((1280, False), (390, True)):
            bs.emulate(browser, width=width, mobile=mobile)
            open_page(browser, page.as_uri())
            bs.full_page_screenshot(browser, f"briefings-email-{kind}-{width}")
            assert not browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
            links = [a.get_attribute("href") for a in all_css(browser, "a")]
            assert links and all(link.startswith(live_server.url) for link in links)
    bs.reset_emulation(browser)
