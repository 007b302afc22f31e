"""The reader's buttons and pages in a real browser (headless Chromium, JavaScript off:
they must work without it): sign in, follow a publisher from its page, save an article
with a note, find it on the Saved page; and, with JavaScript, no serious axe-core
violation on any of the reader's pages or the site's pages with the reader's buttons. Skipped with the reason when chromium, chromedriver or axe-core is
missing, as tests/test_browser.py is."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from newsdesk.reader.models import Follow, Saved
from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import PASSWORD, by_css, log_in, open_page, wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
User = get_user_model()


@pytest.fixture
def site(live_server, plain_browser):
    cache.clear()
    world = web_data.build_world()
    plain_browser.delete_all_cookies()
    yield live_server.url, world
    cache.clear()


def test_follow_save_and_the_reader_pages(site, plain_browser):
    base, world = site
    driver = plain_browser
    user = User.objects.create_user("reader-in-chromium", "chromium@example.org", PASSWORD)
    log_in(driver, base, user.get_username(), "/sources/rt/")
    by_css(driver, "form.reader-follow button").click()
    wait(driver, lambda d: "Unfollow" in by_css(d, "form.reader-follow button").text, message="followed")
    assert Follow.objects.filter(user=user, source__slug="rt").exists()

    open_page(driver, base + world.article.get_absolute_url())
    by_css(driver, "#reader-note").send_keys("read this again on Sunday")
    by_css(driver, "form.reader-save button").click()
    wait(driver, lambda d: "Sunday" in by_css(d, ".reader-actions").text, message="saved")
    assert Saved.objects.get(user=user).note == "read this again on Sunday"

    open_page(driver, base + "/reading/saved/")
    assert world.article.title in by_css(driver, "main").text and "Sunday" in by_css(driver, "main").text


def test_buttons_swap_in_place_and_the_reader_pages_pass_axe(live_server, browser):
    cache.clear()
    world = web_data.build_world()
    browser.delete_all_cookies()
    base, driver = live_server.url, browser
    user = User.objects.create_user("reader-with-axe", "axe@example.org", PASSWORD)
    log_in(driver, base, user.get_username(), "/sources/rt/")
    # With JavaScript, htmx swaps the button in place: the page is not reloaded.
    driver.execute_script("window.__same_page = true")
    by_css(driver, "form.reader-follow button").click()
    wait(driver, lambda d: "Unfollow" in by_css(d, "form.reader-follow button").text, message="followed")
    assert driver.execute_script("return window.__same_page === true")
    assert Follow.objects.filter(user=user).exists()
    open_page(driver, base + world.article.get_absolute_url())
    driver.execute_script("window.__same_page = true")
    by_css(driver, "#reader-note").send_keys("swapped")
    by_css(driver, "form.reader-save button").click()
    wait(driver, lambda d: "Remove from saved" in by_css(d, ".reader-actions").text, message="saved")
    assert (
        driver.execute_script("return window.__same_page === true")
        and "swapped" in by_css(driver, ".reader-actions").text
    )
    assert not bs.console_errors(driver)

    bs.axe_source()  # skip from here, with the reason, if axe-core cannot be had
    pages = ["/reading/", "/reading/saved/", "/reading/history/", "/reading/following/", "/reading/apps/"]
    pages += ["/sources/rt/", world.article.get_absolute_url(), "/hashtags/vladimir-putin/", "/accounts/profile/"]
    found = {}
    for path in pages:
        open_page(driver, base + path)
        if problems := bs.serious(bs.run_axe(driver)):
            found[path] = problems
    assert not found, found
    cache.clear()
