"""The reader's site in a real browser: headless Debian Chromium driven by Selenium against
pytest-django's live server, with data built through the ORM (tests/web_data.py).

Reading an article and following its key points to the sentences they come from (with
and without JavaScript), asking a question answered in place by htmx, signing up,
commenting, replying, reporting and moderating, search, hashtag pages, axe-core
accessibility checks (no serious or critical violations, light and dark), screenshots
at phone and desktop widths (test-artifacts/), and hostile markup that must never run.

Skipped with the reason when chromium or chromedriver is missing; the axe checks alone
skip when axe-core cannot be installed from npm.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone

from tests import browser_support as bs
from tests import web_data
from tests.browser_support import browser  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

User = get_user_model()
PASSWORD = "correct-Horse-battery-9"


@pytest.fixture
def site(live_server, browser):
    cache.clear()
    world = web_data.build_world()
    browser.delete_all_cookies()
    bs.console_errors(browser)  # start each test with an empty console log
    yield live_server.url, world
    cache.clear()


def wait(driver, condition, timeout: float = 20, message: str = ""):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def settled(d):
        try:
            return condition(d)
        except WebDriverException as error:
            # Chromium (156) reports an element of the page being left as a node that "does
            # not belong to the document", not always as stale: the page is not there yet.
            if "does not belong to the document" in str(error):
                return False
            raise

    # An element found on the page being left can go stale while the condition reads it.
    return WebDriverWait(
        driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(settled, message)


def by_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def no_alert(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018


def highlighted(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#article-body .is-highlighted'), e => e.dataset.s)"
    )


def make_user(name: str, *, moderator: bool = False):
    user = User.objects.create_user(name, f"{name}@example.org", PASSWORD)
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save()
    if moderator:
        user.groups.add(Group.objects.get(name="moderators"))
    return user


def log_in(driver, base: str, name: str, next_url: str) -> None:
    open_page(driver, f"{base}/accounts/login/?next={next_url}")
    by_css(driver, "#id_username").send_keys(name)
    by_css(driver, "#id_password").send_keys(PASSWORD)
    by_css(driver, "form.account-form button[type=submit]").click()
    # The login page's own address holds next_url: wait until the browser has left it.
    wait(
        driver,
        lambda d: (
            "/accounts/login/" not in d.current_url
            and next_url in d.current_url
            and d.execute_script("return document.readyState") == "complete"
            and name in by_css(d, ".account-links").text
        ),
        message=f"signed in as {name}",
    )


def log_out(driver) -> None:
    by_css(driver, ".account-links form button").click()
    wait(driver, lambda d: all_css(d, ".account-links a[href^='/accounts/login/']"))


# --- reading ------------------------------------------------------------------------------


def test_read_an_article_and_follow_its_key_points(site, browser):
    base, world = site
    open_page(browser, base + world.article.get_absolute_url())
    assert by_css(browser, "h1").text == web_data.TITLE
    age = by_css(browser, ".article-header time")
    assert age.text == "16 minutes ago" and age.get_attribute("title").endswith("UTC")
    browser.execute_script("window.__marker = 'same page'")

    points = all_css(browser, "a.key-point")
    assert len(points) == 3
    points[2].click()  # "Lukashenko calls Moscow his closest ally": sentences 4 and 5
    wait(browser, lambda d: highlighted(d) == ["4", "5"], message="sentences 4 and 5 highlighted")
    assert browser.execute_script("return document.querySelector(':target').id") == "s-4"
    assert browser.execute_script("return document.activeElement.dataset.s") == "4"
    assert "closest ally" in by_css(browser, "#s-5").text
    assert points[2].get_attribute("aria-current") == "true"

    # Keyboard: focus the first key point and press Enter.
    from selenium.webdriver.common.keys import Keys

    browser.execute_script("arguments[0].focus()", points[0])
    points[0].send_keys(Keys.ENTER)
    wait(browser, lambda d: highlighted(d) == ["1"], message="sentence 1 highlighted")
    background = browser.execute_script("return getComputedStyle(document.getElementById('s-1')).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert browser.execute_script("return window.__marker") == "same page"  # no reload
    assert bs.console_errors(browser) == []


def test_key_points_and_ask_work_without_javascript(site):
    base, world = site
    driver = bs.new_driver(javascript=False)
    try:
        open_page(driver, base + world.article.get_absolute_url())
        assert driver.execute_script("return 1") == 1  # WebDriver scripts still run
        assert driver.execute_script("return typeof window.htmx") == "undefined"
        all_css(driver, "a.key-point")[1].click()
        wait(driver, lambda d: d.current_url.endswith("#s-3"))
        background = driver.execute_script("return getComputedStyle(document.getElementById('s-3')).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent")  # CSS :target

        by_css(driver, "#question").send_keys("Who is Lukashenko?")
        by_css(driver, "form.ask button[type=submit]").click()
        wait(driver, lambda d: all_css(d, "#answer .answer"), 60, "the answer page")
        assert "/ask?question=" in driver.current_url  # a full page load: the plain GET form
        assert "Lukashenko" in by_css(driver, "#answer").text
        assert by_css(driver, "h1").text == web_data.TITLE
    finally:
        driver.quit()


def test_ask_the_article_in_place(site, browser):
    from django.test import Client

    base, world = site
    url = base + world.article.get_absolute_url()
    Client().get(world.article.get_absolute_url())  # the browser gets the cached page
    open_page(browser, url)
    wait(browser, lambda d: d.execute_script("return typeof window.htmx") == "object")
    state = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(location.href, {credentials: 'omit', cache: 'no-store'})"
        ".then(r => done([r.headers.get('X-Page-Cache'), r.headers.get('Cache-Control')]))"
    )
    assert state[0] == "hit" and "public" in state[1]  # the shared page: no token in it
    assert not all_css(browser, "form.ask input[name=csrfmiddlewaretoken]")
    browser.execute_script("window.__marker = 'before asking'")
    by_css(browser, "#question").send_keys("Who is Lukashenko?")
    by_css(browser, "form.ask button[type=submit]").click()
    wait(browser, lambda d: all_css(d, "#answer .answer"), 90, "the answer to appear")
    answer = by_css(browser, "#answer").text
    assert "The article says" in answer and answer.count("Alexander Lukashenko, who is visiting Russia") == 1
    assert browser.execute_script("return window.__marker") == "before asking"  # no reload
    assert browser.current_url == url
    # The quoted sentence links back into the article.
    by_css(browser, "#answer a.quote-link").click()
    wait(browser, lambda d: highlighted(d), message="the quoted sentence highlighted")
    # A second question replaces the first answer, still in place.
    question = by_css(browser, "#question")
    question.clear()
    question.send_keys("What is the price of oil?")
    by_css(browser, "form.ask button[type=submit]").click()
    wait(browser, lambda d: "does not say" in by_css(d, "#answer").text, 60, "a refusal")
    assert browser.execute_script("return window.__marker") == "before asking"
    assert bs.console_errors(browser) == []


# --- accounts and comments ----------------------------------------------------------------


def test_sign_up_comment_reply_report_and_moderate(site, browser):
    base, world = site
    path = world.article.get_absolute_url()
    make_user("bob")
    make_user("mod", moderator=True)

    open_page(browser, base + path)
    by_css(browser, ".comment-login a[href*='/accounts/signup/']").click()
    wait(browser, lambda d: all_css(d, "#id_username"))
    by_css(browser, "#id_username").send_keys("alice")
    by_css(browser, "#id_email").send_keys("alice@example.org")
    by_css(browser, "#id_password1").send_keys(PASSWORD)
    by_css(browser, "#id_password2").send_keys(PASSWORD)
    by_css(browser, "form.account-form button[type=submit]").click()
    wait(browser, lambda d: path in d.current_url and all_css(d, "#comment-body"), message="back on the article")
    assert "alice" in by_css(browser, ".account-links").text

    by_css(browser, "#comment-body").send_keys("Talks are the only way forward.")
    by_css(browser, "#comments form.comment-form button[type=submit]").click()
    wait(browser, lambda d: "Talks are the only way forward." in by_css(d, ".comment-list").text)
    comment_id = by_css(browser, ".comment-list .comment").get_attribute("id")
    log_out(browser)

    log_in(browser, base, "bob", path)
    by_css(browser, "details.comment-reply summary").click()
    reply = by_css(browser, "details.comment-reply textarea")
    reply.send_keys("I agree with you.")
    by_css(browser, "details.comment-reply button[type=submit]").click()
    wait(browser, lambda d: "I agree with you." in by_css(d, ".comment-replies").text)
    by_css(browser, f"#{comment_id} a[href*='/report/']").click()
    wait(browser, lambda d: all_css(d, "input[name=reason]"))
    all_css(browser, "input[name=reason]")[0].click()
    by_css(browser, "form.comment-form button[type=submit]").click()
    wait(browser, lambda d: "Reported" in by_css(d, f"#{comment_id}").text)
    log_out(browser)

    log_in(browser, base, "mod", path)
    by_css(browser, f"#{comment_id} form[action*='/moderate/'] button").click()
    wait(browser, lambda d: "Hidden from readers" in by_css(d, f"#{comment_id}").text)
    log_out(browser)

    open_page(browser, base + path)  # anonymous again: the (cached) page must not show it
    comments = by_css(browser, "#comments").text
    assert "Talks are the only way forward." not in comments
    assert "I agree with you." in comments


# --- search and hashtags ------------------------------------------------------------------


def test_search_and_follow_a_hashtag(site, browser):
    base, world = site
    open_page(browser, base + "/")
    box = by_css(browser, "#site-q")
    box.send_keys("Lukashenko")
    box.submit()
    wait(browser, lambda d: "/search/" in d.current_url and all_css(d, ".search-results"))
    titles = [a.text for a in all_css(browser, ".search-results .headline a")]
    assert web_data.TITLE in titles

    open_page(browser, base + "/search/?q=Lukashenko")
    assert web_data.TITLE in by_css(browser, ".search-results").text

    open_page(browser, base + world.article.get_absolute_url())
    by_css(browser, ".hashtags a[href='/hashtags/vladimir-putin/']").click()
    wait(browser, lambda d: d.current_url.endswith("/hashtags/vladimir-putin/"))
    assert by_css(browser, "h1").text == "#Vladimir Putin"
    listed = [a.text for a in all_css(browser, ".items .headline a")]
    assert listed == [web_data.TITLE, world.other.title]


def test_skip_link_and_focus(site, browser):
    from selenium.webdriver.common.keys import Keys

    base, world = site
    open_page(browser, base + world.article.get_absolute_url())
    by_css(browser, "body").send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.get_attribute("class") == "skip" and active.is_displayed()
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    active.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.switch_to.active_element.get_attribute("id") == "main")


# --- accessibility, layout, screenshots -----------------------------------------------------


def test_no_serious_accessibility_violations(site, browser):
    base, world = site
    bs.axe_source()  # skip here, with the reason, if axe-core cannot be had
    pages = {
        "home": "/",
        "article": world.article.get_absolute_url(),
        "search": "/search/?q=Putin",
        "hashtag": "/hashtags/vladimir-putin/",
        "story": f"/stories/{world.story.pk}/",
        "source": "/sources/rt/",
        "section": "/sections/world/",
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
    }
    found = {}
    try:
        for dark in (False, True):
            bs.emulate(browser, width=1366, dark=dark)
            for name, path in pages.items():
                open_page(browser, base + path)
                problems = bs.serious(bs.run_axe(browser))
                if problems:
                    found[f"{name}{' (dark)' if dark else ''}"] = problems
        bs.emulate(browser, width=390, height=844, mobile=True)
        open_page(browser, base + world.article.get_absolute_url())
        if problems := bs.serious(bs.run_axe(browser)):
            found["article (phone)"] = problems
    finally:
        bs.reset_emulation(browser)
    assert not found, found


@pytest.mark.parametrize("width, kind", [(390, "phone"), (1366, "desktop")])
def test_responsive_layout_and_screenshots(site, browser, width, kind):
    base, world = site
    try:
        for dark in (False, True):
            bs.emulate(browser, width=width, height=900, mobile=width < 600, dark=dark)
            for name, path in [("article", world.article.get_absolute_url()), ("home", "/")]:
                open_page(browser, base + path)
                if name == "article":
                    all_css(browser, "a.key-point")[0].click()
                    wait(browser, lambda d: highlighted(d) == ["1"])
                    browser.execute_script("window.scrollTo(0, 0)")
                overflow = bs.sideways_overflow(browser)
                assert overflow <= 0, f"{name} scrolls sideways at {width}px"
                suffix = "-dark" if dark else ""
                path = bs.full_page_screenshot(browser, f"{name}-{kind}-{width}{suffix}")
                assert path.stat().st_size > 10_000
    finally:
        bs.reset_emulation(browser)


# --- hostile markup -----------------------------------------------------------------------


def test_hostile_markup_never_runs(site, browser):
    from newsdesk.comments.models import Comment

    base, world = site
    troll = make_user("troll")
    for payload in [
        '<img src=x onerror="window.__xss=11;alert(11)">',
        "<script>window.__xss=12;alert(12)</script>",
        '"><svg onload="window.__xss=13">',
    ]:
        Comment.objects.create(article=world.hostile, author=troll, body=payload, status=Comment.Status.PUBLISHED)
    evil_query = '"><img src=x onerror="window.__xss=14;alert(14)"><script>window.__xss=15</script>'
    from urllib.parse import quote

    pages = [
        world.hostile.get_absolute_url(),
        "/",
        f"/sources/{world.hostile.source.slug}/",
        "/sections/world/",
        f"/search/?q={quote(evil_query)}",
        "/search/?q=Harbour",
        f"/comments/article/{world.hostile.pk}/",
    ]
    for path in pages:
        open_page(browser, base + path)
        no_alert(browser)
        assert browser.execute_script("return typeof window.__xss") == "undefined", path
        errors = bs.console_errors(browser)
        assert not [e for e in errors if "Content Security Policy" in e], (path, errors)
    open_page(browser, base + world.hostile.get_absolute_url())
    assert web_data.XSS_TITLE == by_css(browser, "h1").text
    assert "<script>window.__xss=12;alert(12)</script>" in by_css(browser, "#comments").text
    # Hovering and clicking where handlers were planted does nothing either.
    from selenium.webdriver.common.action_chains import ActionChains

    for element in all_css(browser, "#article-body p") + all_css(browser, ".key-points li"):
        ActionChains(browser).move_to_element(element).perform()
    for link in all_css(browser, "#article-body a"):
        assert not (link.get_attribute("href") or "").startswith("javascript:")
    no_alert(browser)
    assert browser.execute_script("return typeof window.__xss") == "undefined"


# --- every page kind: layout, pictures, accessibility, screenshots ---------------------------


def page_kinds(world) -> dict[str, str]:
    return {
        "home": "/",
        "article": world.article.get_absolute_url(),
        "story": f"/stories/{world.story.pk}/",
        "section": "/sections/world/",
        "hashtag": "/hashtags/vladimir-putin/",
        "source": "/sources/rt/",
        "search": "/search/?q=Putin",
        "signup": "/accounts/signup/",
        "login": "/accounts/login/",
    }


@pytest.fixture
def pictured(site, settings, tmp_path):
    """The site's articles with lead images, stored and served as the images stage would."""
    from tests import picture_data

    settings.MEDIA_ROOT = str(tmp_path / "media")
    base, world = site
    for seed, item in enumerate([world.article, world.other, world.hostile]):
        picture_data.attach(item, seed=seed)
    return base, world


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """Where the screenshots go: NEWSDESK_TEST_ARTIFACTS/pages, else a temporary folder."""
    import os
    from pathlib import Path

    folder = (
        Path(os.environ["NEWSDESK_TEST_ARTIFACTS"]) / "pages" if os.environ.get("NEWSDESK_TEST_ARTIFACTS") else None
    )
    folder = folder or tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


def load_every_picture(driver) -> list[str]:
    """Load the lazy pictures too (a full-page screenshot does not scroll); the sources of
    any picture that failed to load."""
    driver.execute_script("document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    wait(
        driver,
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)"),
        message="pictures loaded",
    )
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('img.pic')).filter(i => !i.naturalWidth).map(i => i.currentSrc)"
    )


def shoot(driver, folder, name: str):
    import base64

    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000
    return path


def check_layout(driver, name: str, width: int) -> None:
    overflow = bs.sideways_overflow(driver)
    assert overflow <= 0, f"{name} scrolls sideways at {width}px"
    main, side = driver.execute_script(
        "const r = e => e && e.getBoundingClientRect().toJSON();"
        "return [r(document.querySelector('main')), r(document.querySelector('.layout > .side'))]"
    )
    if width >= 1280:
        # The screen is used: the frame spans it but for the gutters, a sidebar beside the content.
        assert main["left"] <= 48, (name, main)
        if side is not None:
            assert side["left"] > main["right"] and side["right"] >= width - 48, (name, main, side)
            assert side["top"] < main["top"] + 40, (name, "the sidebar starts at the top, beside the content")
    elif side is not None:  # a phone: one column, the sidebar after the content
        assert side["top"] >= main["bottom"] - 1 and abs(side["left"] - main["left"]) < 2, (name, main, side)


@pytest.mark.parametrize("with_pictures", [True, False], ids=["pictures", "no-pictures"])
@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_kind_looks_right_and_passes_axe(request, site, browser, screenshots, width, with_pictures):
    """Each kind of page at a desktop and a phone width, with and without pictures: no
    sideways scrolling, a sidebar beside the content on the desktop and after it on the
    phone, every picture loaded from us with its size reserved, no axe-core violation of
    any impact (light and dark), and a full-page screenshot of each for people to look at."""
    base, world = request.getfixturevalue("pictured") if with_pictures else site
    bs.axe_source()
    found: dict[str, list] = {}
    try:
        for dark in (False, True):
            bs.emulate(browser, width=width, height=900, mobile=width < 600, dark=dark)
            for name, path in page_kinds(world).items():
                open_page(browser, base + path)
                label = f"{name}-{width}{'-pictures' if with_pictures else ''}{'-dark' if dark else ''}"
                failed = load_every_picture(browser)
                assert failed == [], (label, failed)
                pictures = browser.execute_script(
                    "return Array.from(document.querySelectorAll('img.pic'), i => [i.getAttribute('src'), "
                    "i.getAttribute('width'), i.getAttribute('height'), i.getAttribute('srcset'), i.getAttribute('sizes')])"
                )
                for src, w, h, srcset, sizes in pictures:
                    assert src.startswith("/media/images/") and w and h and srcset and sizes, (label, src)
                if with_pictures and name in ("home", "article", "story", "section", "hashtag", "source"):
                    assert pictures, f"{label} shows no picture"
                if not with_pictures:
                    assert pictures == [], label
                check_layout(browser, label, width)
                if problems := bs.run_axe(browser):
                    found[label] = problems
                if not dark or (width >= 1280 and with_pictures):
                    shoot(browser, screenshots, label)
    finally:
        bs.reset_emulation(browser)
    assert not found, found


def test_one_date_format_on_hover_everywhere(site, browser):
    """Every age on every page says the exact time on hover in the same words."""
    import re

    base, world = site
    pattern = re.compile(r"^\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2} UTC$")
    seen = 0
    for path in page_kinds(world).values():
        open_page(browser, base + path)
        for title in browser.execute_script(
            "return Array.from(document.querySelectorAll('time[title]'), t => t.title)"
        ):
            assert pattern.match(title), (path, title)
            seen += 1
    assert seen >= 10


def test_forms_and_buttons_share_one_style(site, browser):
    """Sign-up's button is the site's blue primary button, as search's and ask's are."""
    base, world = site

    def button_style(selector: str) -> tuple:
        return tuple(
            browser.execute_script(
                "const s = getComputedStyle(document.querySelector(arguments[0]));"
                "return [s.backgroundColor, s.color, s.borderRadius, s.fontWeight]",
                selector,
            )
        )

    open_page(browser, base + "/accounts/signup/")
    signup = button_style("form.account-form button[type=submit]")
    header_search = button_style(".site-search button")
    field = browser.execute_script(
        "const s = getComputedStyle(document.querySelector('#id_username')); return [s.borderRadius, s.width]"
    )
    open_page(browser, base + world.article.get_absolute_url())
    ask = button_style("form.ask button[type=submit]")
    assert signup == header_search == ask
    assert signup[0] == "rgb(11, 87, 208)" and signup[1] == "rgb(255, 255, 255)"  # blue, white text
    assert field[0] == "8px" and float(field[1].removesuffix("px")) > 300  # full-width fields, rounded
