"""The desk and "Your data" in a real browser (headless Chromium): staff find a site's feeds
(htmx swaps the preview in, the page stays), subscribe and land on the source's page;
no serious axe-core violation on the desk, its preview, a source's page, the suggestion
page and the data page; screenshots at 1280 and 390 px. Without JavaScript, a reader
suggests a source and deletes their account (comments kept anonymised). Skipped with the
reason when chromium, chromedriver or axe-core is missing, as tests/test_browser.py is."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from newsdesk.comments.models import Comment
from newsdesk.desk.models import Suggestion
from newsdesk.sources.models import Feed, Source
from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser, plain_browser  # noqa: F401 (fixtures)
from tests.test_browser import PASSWORD, by_css, log_in, open_page, wait
from tests.test_desk import serve_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
User = get_user_model()


def shots(driver, name: str) -> None:
    """Full-page screenshots of the current page at 1280 and 390 px."""
    for width, mobile in ((1280, False), (390, True)):
        bs.emulate(driver, width=width, mobile=mobile)
        bs.full_page_screenshot(driver, f"{name}-{width}")
    bs.reset_emulation(driver)


def test_staff_add_a_source_and_the_pages_pass_axe(live_server, browser, fixture_server):
    cache.clear()
    web_data.build_world()
    base, driver = live_server.url, browser
    driver.delete_all_cookies()
    bs.console_errors(driver)
    site = serve_site(fixture_server, "/desk-browser")
    reader = User.objects.create_user("reader-suggests", "suggests@example.org", PASSWORD)
    Suggestion.objects.create(user=reader, url="https://harbour-weekly.example/", note="Covers the port every day")
    staff = User.objects.create_user("staff-in-chromium", "staff@example.org", PASSWORD, is_staff=True)

    log_in(driver, base, staff.get_username(), "/desk/")
    assert "harbour-weekly.example" in by_css(driver, "#suggestions").text
    shots(driver, "desk-index")
    driver.execute_script("window.__same_page = true")
    by_css(driver, "form.desk-find input[name=url]").send_keys(site["home"])
    by_css(driver, "form.desk-find button").click()
    wait(driver, lambda d: "Harbour Gazette: News" in by_css(d, "#desk-preview").text, timeout=60, message="preview")
    assert driver.execute_script("return window.__same_page === true")  # htmx swapped the preview in
    preview = by_css(driver, "#desk-preview").text
    assert "7 items" in preview and "Harbour story 0" in preview and "404" in preview
    shots(driver, "desk-preview")
    bs.axe_source()  # skip from here, with the reason, if axe-core cannot be had
    found = {}
    if problems := bs.serious(bs.run_axe(driver)):
        found["/desk/ (preview)"] = problems

    by_css(driver, "form.desk-subscribe button[type=submit]").click()
    wait(driver, lambda d: "/desk/sources/" in d.current_url and "Subscribed to 2 new feeds" in by_css(d, "main").text)
    source = Source.objects.get(name="Harbour Gazette")
    assert sorted(Feed.objects.filter(source=source).values_list("url", flat=True)) == sorted(
        [site["rss"], site["atom"]]
    )
    shots(driver, "desk-source")
    for path in ["/desk/", f"/desk/sources/{source.slug}/", "/desk/suggest/", "/reading/data/"]:
        open_page(driver, base + path)
        if problems := bs.serious(bs.run_axe(driver)):
            found[path] = problems
    open_page(driver, base + "/reading/data/")
    shots(driver, "your-data")
    assert not found, found
    assert not bs.console_errors(driver)
    cache.clear()


def test_without_javascript_a_reader_suggests_then_deletes_their_account(live_server, plain_browser):
    cache.clear()
    world = web_data.build_world()
    base, driver = live_server.url, plain_browser
    driver.delete_all_cookies()
    user = User.objects.create_user("reader-leaves", "leaves@example.org", PASSWORD)
    comment = Comment.objects.create(article=world.article, author=user, body="Worth reading twice.")
    log_in(driver, base, user.get_username(), "/desk/suggest/")
    by_css(driver, "#id_url").send_keys("https://harbour-weekly.example/")
    by_css(driver, "#id_note").send_keys("Covers the port every day")
    by_css(driver, "form.desk-suggest-form button").click()
    wait(driver, lambda d: "Thank you" in by_css(d, "main").text)
    assert "Waiting for review" in by_css(driver, "main").text
    assert Suggestion.objects.get(user=user).note == "Covers the port every day"

    open_page(driver, base + "/reading/data/")
    by_css(driver, "#comments-keep").click()
    by_css(driver, "#delete-password").send_keys(PASSWORD)
    by_css(driver, "form.data-delete button[type=submit]").click()
    wait(driver, lambda d: "Your account is deleted" in by_css(d, "main").text)
    assert "[deleted account]" in by_css(driver, "main").text
    assert not User.objects.filter(pk=user.pk).exists() and not Suggestion.objects.exists()
    comment.refresh_from_db()
    assert comment.author_id is None and comment.body == "Worth reading twice."
    cache.clear()
