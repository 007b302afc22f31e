"""Follow, mute, For You and Following in a real browser (headless Chromium): with
JavaScript off every button is a plain form that works; with it, htmx swaps the buttons
in place; and axe-core finds no serious violation on For You, Following, the "how" page
and the pages that carry the buttons. Skipped with the reason when chromium,
chromedriver or axe-core is missing, as tests/test_browser.py is."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from selenium.webdriver.common.by import By

from newsdesk.reader.models import Interest, Nudge
from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import PASSWORD, by_css, log_in, open_page, wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
User = get_user_model()


def button(driver, text: str):
    for element in driver.find_elements(By.CSS_SELECTOR, "main button, aside button"):
        if element.text.strip().startswith(text):
            return element
    raise AssertionError(f"no button {text!r} on {driver.current_url}")


def test_without_javascript(live_server, plain_browser):
    cache.clear()
    web_data.build_world()
    base, driver = live_server.url, plain_browser
    driver.delete_all_cookies()
    user = User.objects.create_user("foryou-plain", "plain@example.org", PASSWORD)
    log_in(driver, base, user.get_username(), "/hashtags/vladimir-putin/")
    button(driver, "Follow #Vladimir Putin").click()
    wait(driver, lambda d: "Unfollow #Vladimir Putin" in by_css(d, "main header").text, message="followed")
    assert Interest.objects.filter(user=user, kind="hashtag", key="vladimir-putin", muted=False).exists()

    open_page(driver, base + "/reading/for-you/")
    main = by_css(driver, "main").text
    assert "You follow #Vladimir Putin" in main and "+1 source" in main
    button(driver, "Less like this").click()
    wait(driver, lambda d: "/reading/for-you/" in d.current_url and "Nothing for you" in by_css(d, "main").text)
    assert Nudge.objects.filter(user=user, more=False).count() == 1

    open_page(driver, base + "/reading/following/")
    assert "#Vladimir Putin" in by_css(driver, "main").text
    by_css(driver, "#mute-word").send_keys("Harbour walls")
    button(driver, "Mute").click()
    wait(driver, lambda d: "“harbour walls”" in by_css(d, "main").text, message="word muted")
    assert Interest.objects.filter(user=user, kind="word", key="harbour walls", muted=True).exists()


def test_with_javascript_buttons_swap_in_place_and_pages_pass_axe(live_server, browser):
    cache.clear()
    world = web_data.build_world()
    base, driver = live_server.url, browser
    driver.delete_all_cookies()
    user = User.objects.create_user("foryou-axe", "axe@example.org", PASSWORD)
    log_in(driver, base, user.get_username(), "/sections/world/")
    driver.execute_script("window.__same_page = true")
    button(driver, "Follow World").click()
    wait(driver, lambda d: "Unfollow World" in by_css(d, "main header").text, message="followed in place")
    button(driver, "Mute World").click()
    wait(driver, lambda d: "Unmute World" in by_css(d, "main header").text, message="muted in place")
    assert driver.execute_script("return window.__same_page === true")
    assert Interest.objects.get(user=user, kind="section", key="world").muted
    button(driver, "Unmute World").click()
    wait(driver, lambda d: "Follow World" in by_css(d, "main header").text, message="unmuted")

    open_page(driver, base + f"/stories/{world.story.pk}/")
    button(driver, "Follow this story").click()
    wait(driver, lambda d: "Unfollow this story" in by_css(d, "main header").text, message="story followed")

    open_page(driver, base + "/reading/for-you/")
    driver.execute_script("window.__same_page = true")
    assert "You follow the story" in by_css(driver, "main").text
    button(driver, "More like this").click()
    wait(driver, lambda d: "Noted: more like this" in by_css(d, "main").text, message="nudged in place")
    button(driver, "Undo").click()
    wait(driver, lambda d: "More like this" in by_css(d, ".foryou-actions").text, message="undone in place")
    source_name = by_css(driver, ".foryou-entry .meta a").text
    button(driver, f"Hide {source_name}").click()
    wait(driver, lambda d: f"You muted {source_name}" in by_css(d, "main").text, message="hidden in place")
    assert driver.execute_script("return window.__same_page === true")
    assert Interest.objects.filter(user=user, kind="source", muted=True).count() == 1
    assert not Nudge.objects.filter(user=user).exists()
    assert not bs.console_errors(driver)

    bs.axe_source()  # skip from here, with the reason, if axe-core cannot be had
    pages = ["/reading/for-you/", "/reading/following/", "/reading/for-you/how/", "/hashtags/vladimir-putin/"]
    pages += ["/sections/world/", f"/stories/{world.story.pk}/", "/search/?q=Putin", "/sources/rt/", "/"]
    found = {}
    for path in pages:
        open_page(driver, base + path)
        if problems := bs.serious(bs.run_axe(driver)):
            found[path] = problems
    assert not found, found
    for width in (1280, 390):  # as a reader on a phone and a laptop sees them
        bs.emulate(driver, width=width, mobile=width < 500)
        for path in ("/reading/for-you/", "/reading/following/"):
            open_page(driver, base + path)
            bs.full_page_screenshot(driver, f"foryou-{path.strip('/').replace('/', '-')}-{width}")
    bs.reset_emulation(driver)
    cache.clear()
