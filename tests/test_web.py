"""The reader's site without a browser: page anatomy in the seed page's order, metadata,
sentence targets for key points, escaping, home and listings with pagination and feed
links, ask-the-article with and without htmx, and the page cache with its invalidation,
its fast path, validators and public Cache-Control (no CSRF token on anonymous pages)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import html as lxml_html

from newsdesk.ai.sentences import split_sentences
from newsdesk.articles.models import Article, Enrichment
from newsdesk.articles.trending import trending_hashtags
from newsdesk.comments.models import Comment
from newsdesk.comments.signals import comments_changed
from newsdesk.stories.signals import stories_changed
from newsdesk.web import pagecache
from newsdesk.web.body import render_body
from newsdesk.web.models import PageVersion
from tests import web_data
from tests.html_select import select

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    # Run the on-commit hooks as a real commit would: the articles get page versions.
    with django_capture_on_commit_callbacks(execute=True):
        return web_data.build_world()


def get(client: Client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def text_of(response) -> str:
    return response.content.decode()


def tree(response):
    return lxml_html.fromstring(response.content)


# --- the article page ---------------------------------------------------------------------


def test_article_page_follows_the_seed_order(client, world):
    page = text_of(get(client, world.article.get_absolute_url()))
    order = [
        '<h1 id="article-title">' + web_data.TITLE,
        'class="source"',
        '<span class="byline">Jane Reporter</span>',
        "16 minutes ago</time>",
        'id="article-body"',
        'id="hashtags-title">Hashtags',
        'id="ai-title">AI features',
        ">Summary<",
        ">Key points<",
        "Full coverage",
        ">Ask the article<",
        'id="comments-title">Comments',
        "No comments yet...",
        'id="related-title">Related Articles',
    ]
    positions = [page.find(marker) for marker in order]
    assert all(p >= 0 for p in positions), [m for m, p in zip(order, positions) if p < 0]
    assert positions == sorted(positions)


def test_age_has_the_exact_time_on_hover(client, world):
    doc = tree(get(client, world.article.get_absolute_url()))
    time = select(doc, ".article-header time")[0]
    assert time.text_content() == "16 minutes ago"
    published = timezone.localtime(world.article.published_at)
    assert time.get("datetime") == published.isoformat()
    assert time.get("title") == published.strftime("%-d %B %Y, %H:%M ") + "UTC"


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_the_exact_time_is_written_as_django_formats_it(zone):
    """`exact` writes "j F Y, H:i T" itself (newsdesk.py); Django's dateformat is the
    reference, clock changes (ambiguous and skipped times) included."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import dateformat, translation

    from newsdesk.web.templatetags.newsdesk import EXACT_FORMAT, exact

    start = datetime(2025, 1, 1, tzinfo=UTC)
    with translation.override("en"):
        for step in range(366 * 24):  # every hour of a year
            value = (start + timedelta(hours=step, minutes=7)).astimezone(ZoneInfo(zone))
            assert exact(value) == dateformat.format(value, EXACT_FORMAT), value
            for fold in (0, 1):  # the wall-clock time as a reader's zone shows it, either side of a change
                shown = value.replace(fold=fold)
                assert exact(shown) == dateformat.format(shown, EXACT_FORMAT), shown


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Australia/Lord_Howe"])
def test_when_writes_what_its_parts_write(zone):
    """`{% when %}` keeps the parts of <time> that do not change with the clock
    (newsdesk.py); each time and label gives what the age, the local time and the
    exact time write when worked out afresh, in the reader's zone."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from django.utils.html import escape

    from newsdesk.web.templatetags.newsdesk import age, exact, when

    now = timezone.now()
    values = [now - timedelta(minutes=m) for m in (0.2, 3, 59, 61, 60 * 23, 60 * 25, 60 * 24 * 9, 60 * 24 * 400)]
    with timezone.override(ZoneInfo(zone)):
        for value in values * 2:  # the second time from what it kept
            for label in ("", "Updated <b>"):
                local = timezone.localtime(value)
                text = f"{label} {age(value)}" if label else age(value)
                expected = f'<time datetime="{local.isoformat()}" title="{escape(exact(local))}">{escape(text)}</time>'
                assert when(value, label) == expected, (value, label)
    assert when(None) == ""


def test_body_sentences_are_targets_of_the_key_points(client, world):
    doc = tree(get(client, world.article.get_absolute_url()))
    sentences = split_sentences(web_data.BODY_TEXT)
    body = doc.get_element_by_id("article-body")
    for sentence in sentences:
        first = body.get_element_by_id(f"s-{sentence.index}")
        pieces = select(body, f'[data-s="{sentence.index}"]')
        assert first is pieces[0]
        assert " ".join(p.text_content() for p in pieces) == sentence.text
    # The sentence with a link in it is one span that holds the link.
    linked = select(body, '[data-s="3"]')
    assert len(linked) == 1 and select(linked[0], 'a[href="https://example.org/talks"]')
    links = select(doc, "a.key-point")
    assert [a.text_content() for a in links] == [p["text"] for p in web_data.KEY_POINTS]
    assert [a.get("href") for a in links] == ["#s-1", "#s-3", "#s-4"]
    assert [a.get("data-sentences") for a in links] == ["1", "3", "4 5"]


def test_key_points_ignore_sentences_the_body_does_not_have(client, world):
    enrichment = world.article.enrichment
    enrichment.key_points = [{"text": "Out of range", "sentences": [99]}, {"text": "Fine", "sentences": [2, 77]}]
    enrichment.save()
    doc = tree(get(client, world.article.get_absolute_url()))
    items = select(doc, ".key-points li")
    assert items[0].text_content().strip() == "Out of range" and not select(items[0], "a")
    assert select(items[1], "a")[0].get("data-sentences") == "2"


def test_body_falls_back_to_the_text_when_the_html_differs():
    body = render_body("One sentence here. Another one there.\n\nA new paragraph.", "<p>Something else entirely.</p>")
    assert not body.from_publisher_html
    assert body.html == (
        '<p><span class="s" data-s="0" id="s-0">One sentence here.</span> '
        '<span class="s" data-s="1" id="s-1">Another one there.</span></p>\n'
        '<p><span class="s" data-s="2" id="s-2">A new paragraph.</span></p>'
    )
    no_text = render_body("", "<p>Only <em>markup</em>.</p>")
    assert no_text.from_publisher_html and no_text.html == "<p>Only <em>markup</em>.</p>"
    lines = render_body("A heading\nFirst line of text.\n\nNext paragraph.", "")
    assert lines.html.startswith('<p><span class="s" data-s="0" id="s-0">A heading</span><br><span')


def test_body_keeps_publisher_markup_but_nothing_executable():
    markup = (
        '<h2>Head</h2><p>Walls <em>fell</em> down. <img src="https://img.example/a.jpg" alt="Wall">'
        '<img src="javascript:alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">Bad link</a> '
        '<a href="https://ok.example/" onclick="alert(4)" style="color:red">Good link</a>.</p>'
    )
    text = "Head\n\nWalls fell down. Bad link Good link."
    body = render_body(text, markup)
    assert body.from_publisher_html
    html = str(body.html)
    assert "<h2>" in html and "<em>fell</em>" in html
    assert '<img alt="Wall" src="https://img.example/a.jpg" loading="lazy">' in html
    assert '<a href="https://ok.example/" rel="nofollow noopener">Good link</a>' in html
    for bad in ("javascript:", "<script", "onclick", "style=", "alert(2)"):
        assert bad not in html


def test_metadata_opengraph_json_ld_and_canonical(client, world):
    response = get(client, world.article.get_absolute_url())
    doc = tree(response)
    assert select(doc, 'link[rel="canonical"]')[0].get("href") == world.article.url
    og = {m.get("property"): m.get("content") for m in select(doc, "meta[property]")}
    assert og["og:type"] == "article" and og["og:title"] == web_data.TITLE
    assert og["og:url"] == world.article.url
    assert og["og:description"].startswith("If the Ukrainian leadership")
    assert og["article:section"] == "World"
    assert [m.get("content") for m in select(doc, 'meta[property="article:tag"]')] == ["Vladimir Putin", "Belarus"]
    blocks = select(doc, 'script[type="application/ld+json"]')
    assert len(blocks) == 1
    data = json.loads(blocks[0].text)
    assert data["@type"] == "NewsArticle" and data["headline"] == web_data.TITLE
    assert data["url"] == world.article.url
    assert data["publisher"] == {"@type": "Organization", "name": "Russia Today", "url": "https://www.rt.com/"}
    assert data["author"] == {"@type": "Person", "name": "Jane Reporter"}
    assert data["keywords"] == ["Vladimir Putin", "Belarus"] and data["articleSection"] == "World"
    credit = select(doc, ".credit")[0]
    assert "Published by Russia Today" in credit.text_content()
    assert select(credit, "a")[0].get("href") == world.article.url


def assert_inert(response) -> None:
    """No element a page author did not write: no event handlers, no javascript: URLs,
    no script but our own files and the JSON-LD data block, no inline style."""
    doc = tree(response)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            assert not value.strip().lower().startswith("javascript:"), (element.tag, name, value)
            assert name.lower() != "style", element.tag
        assert element.tag not in ("svg", "iframe", "object", "embed", "style"), element.tag
    for script in select(doc, "script"):
        assert (script.get("src") or "").startswith("/static/") or script.get("type") == "application/ld+json"


def test_hostile_markup_is_text_everywhere(client, world):
    response = get(client, world.hostile.get_absolute_url())
    assert_inert(response)
    doc = tree(response)
    assert select(doc, "h1")[0].text_content() == web_data.XSS_TITLE  # shown as text
    assert web_data.XSS_SOURCE in select(doc, ".article-header .source")[0].text_content()
    assert "Evil Byline" in select(doc, ".article-header .byline")[0].text_content()
    page = text_of(response)
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in ld and json.loads(ld)["headline"].startswith("Storm warning <img")
    assert_inert(get(client, "/"))
    assert_inert(get(client, f"/sources/{world.hostile.source.slug}/"))
    assert_inert(get(client, "/sections/world/"))
    assert_inert(get(client, "/search/?q=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E"))


def test_csp_and_security_headers(client, world):
    response = get(client, world.article.get_absolute_url())
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_static_htmx_and_site_script_are_served_locally(client, world):
    doc = tree(get(client, world.article.get_absolute_url()))
    sources = [s.get("src") for s in select(doc, "script[src]")]
    assert "/static/newsdesk/site.js" in sources and "/static/newsdesk/htmx.min.js" in sources
    assert all(src.startswith("/static/") for src in sources)
    config = json.loads(select(doc, 'meta[name="htmx-config"]')[0].get("content"))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    from django.contrib.staticfiles import finders

    htmx = open(finders.find("newsdesk/htmx.min.js")).read()
    assert 'version:"2.' in htmx


def test_story_box_and_related_articles(client, world, monkeypatch):
    from newsdesk.stories import related_db

    monkeypatch.setattr(
        related_db,
        "related_for",
        lambda article, limit=6: [related_db.Related(world.other, 1.0, True, "Putin said Moscow could wait.")],
    )
    doc = tree(get(client, world.article.get_absolute_url()))
    box = select(doc, ".story-box")[0]
    assert select(box, "a")[0].get("href") == reverse("story", args=[world.story.pk])
    assert "2 publishers" in box.text_content()
    related = select(doc, ".related-list .item")[0]
    assert select(related, ".headline a")[0].get("href") == world.other.get_absolute_url()
    assert "BBC News" in related.text_content() and "an hour ago" in related.text_content()
    assert "same story" in related.text_content()


def test_landmarks_labels_and_skip_link(client, world):
    doc = tree(get(client, world.article.get_absolute_url()))
    assert select(doc, "a.skip")[0].get("href") == "#main"
    assert select(doc, "main#main") and select(doc, "header.site-header") and select(doc, "footer")
    assert {n.get("aria-label") for n in select(doc, "nav")} >= {"Main", "Sections", "Account"}
    for field in select(doc, "input:not([type=hidden])") + select(doc, "textarea"):
        assert select(doc, f'label[for="{field.get("id")}"]'), field.get("name")
    assert doc.get("lang") == "en"


# --- ask the article ----------------------------------------------------------------------


def test_ask_without_javascript_renders_the_whole_page(client, world):
    url = reverse("ask", args=[world.article.pk])
    form = select(tree(get(client, world.article.get_absolute_url())), "form.ask")[0]
    assert form.get("method") == "get" and form.get("action") == url + "#answer"
    assert form.get("hx-get") == url and not select(form, 'input[type="hidden"]')
    response = client.get(url, {"question": "Who is Lukashenko?"})
    assert response.status_code == 200
    doc = tree(response)
    assert select(doc, "h1")[0].text_content() == web_data.TITLE
    answer = doc.get_element_by_id("answer")
    assert "Lukashenko" in answer.text_content()
    quote_links = select(answer, "a.quote-link")
    assert quote_links and quote_links[0].get("href").startswith("#s-")
    assert select(doc, "#question")[0].get("value") == "Who is Lukashenko?"
    # An answer is for this reader: never kept by a shared cache, never indexed.
    assert "private" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex"
    assert response[pagecache.HEADER] == "bypass"


def test_ask_with_htmx_returns_only_the_answer(client, world):
    url = reverse("ask", args=[world.article.pk])
    response = client.get(url, {"question": "Who is Lukashenko?"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = text_of(response)
    assert "<html" not in page and 'class="answer"' in page and "Lukashenko" in page
    assert "HX-Request" in response["Vary"] and "private" in response["Cache-Control"]
    empty = client.get(url, {"question": "   "}, headers={"HX-Request": "true"})
    assert "Type a question" in text_of(empty)
    assert client.put(url).status_code == 405


def test_ask_is_a_get_only(world):
    """Asking reads only: one way in, a GET; a POST is refused whatever it carries."""
    url = reverse("ask", args=[world.article.pk])
    strict = Client(enforce_csrf_checks=True)
    get(strict, reverse("accounts:login"))  # a page with a form: the reader gets a CSRF cookie
    token = strict.cookies["csrftoken"].value
    refused = strict.post(url, {"question": "Who is Lukashenko?", "csrfmiddlewaretoken": token})
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"


def test_ask_is_rate_limited_per_address(client, world, settings):
    settings.NEWSDESK_ASK_PER_MINUTE = 2
    caches_to_clear = ["ratelimit"]
    from django.core.cache import caches

    for name in caches_to_clear:
        caches[name].clear()
    url = reverse("ask", args=[world.article.pk])
    for _ in range(2):
        assert client.get(url, {"question": "Who is Lukashenko?"}).status_code == 200
    refused = client.get(url, {"question": "Who is Lukashenko?"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many questions" in text_of(refused) and "<h1" in text_of(refused)
    in_place = client.get(url, {"question": "Who?"}, headers={"HX-Request": "true"})
    assert in_place.status_code == 200 and "Too many questions" in text_of(in_place)  # htmx swaps 2xx only
    assert client.get(url, {"question": "  "}).status_code == 200  # an empty question costs nothing
    for name in caches_to_clear:
        caches[name].clear()


# --- page cache ---------------------------------------------------------------------------


def cache_state(client: Client, url: str) -> str:
    return get(client, url)[pagecache.HEADER]


def test_article_page_is_cached_for_anonymous_readers(client, world):
    url = world.article.get_absolute_url()
    assert cache_state(client, url) == "miss"
    assert cache_state(client, url) == "hit"
    assert cache_state(client, url + "?utm_source=x") == "bypass"
    assert "private" in get(client, url + "?utm_source=x")["Cache-Control"]
    user = User.objects.create_user("reader", "reader@example.org")
    signed_in = Client()
    signed_in.force_login(user)
    response = get(signed_in, url)
    assert response[pagecache.HEADER] == "bypass" and "reader" in text_of(response)


def test_saving_the_article_or_its_enrichment_invalidates(client, world, django_capture_on_commit_callbacks):
    url = world.article.get_absolute_url()
    get(client, url)
    assert cache_state(client, url) == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(pk=world.article.pk).update(title="Changed quietly")  # no signal: still cached
    assert cache_state(client, url) == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        world.article.title = "A new headline"
        world.article.save()
    response = get(client, url)
    assert response[pagecache.HEADER] == "miss" and "A new headline" in text_of(response)
    assert cache_state(client, url) == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        enrichment = Enrichment.objects.get(article=world.article)
        enrichment.summary = "A brand new summary."
        enrichment.save()
    response = get(client, url)
    assert response[pagecache.HEADER] == "miss" and "A brand new summary." in text_of(response)


def test_comment_and_story_changes_invalidate(client, world, django_capture_on_commit_callbacks):
    url = world.article.get_absolute_url()
    get(client, url)
    other_url = world.other.get_absolute_url()
    get(client, other_url)
    with django_capture_on_commit_callbacks(execute=True):
        comments_changed.send(sender=None, article_id=world.article.pk)
    assert cache_state(client, url) == "miss"
    assert cache_state(client, other_url) == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        stories_changed.send(sender=None, article_ids=[world.article.pk, world.other.pk])
    assert cache_state(client, url) == "miss" and cache_state(client, other_url) == "miss"


def test_a_new_comment_shows_to_anonymous_readers_at_once(client, world, django_capture_on_commit_callbacks):
    url = world.article.get_absolute_url()
    assert "No comments yet..." in text_of(get(client, url))
    assert cache_state(client, url) == "hit"
    author = User.objects.create_user("alice", "alice@example.org")
    author.date_joined = timezone.now() - timedelta(days=30)
    author.save()
    commenter = Client()
    commenter.force_login(author)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            commenter.post(
                reverse("comments:article", args=[world.article.pk]), {"body": "First comment here"}
            ).status_code
            == 302
        )
    assert Comment.objects.count() == 1
    response = get(client, url)
    assert response[pagecache.HEADER] == "miss" and "First comment here" in text_of(response)


def test_home_is_cached_and_invalidated_by_new_articles(client, world, django_capture_on_commit_callbacks):
    assert cache_state(client, "/") == "miss"
    assert cache_state(client, "/") == "hit"
    assert cache_state(client, "/?page=1") == "miss"  # its own entry
    with django_capture_on_commit_callbacks(execute=True):
        web_data.article(world.article.source, 99, title="Breaking: fresh article")
    response = get(client, "/")
    assert response[pagecache.HEADER] == "miss" and "Breaking: fresh article" in text_of(response)


def test_a_version_written_by_another_process_invalidates(client, world):
    url = world.article.get_absolute_url()
    get(client, url)
    assert cache_state(client, url) == "hit"
    # A task worker bumps the version in the shared database, not in this process's cache.
    scope = pagecache.article_scope(world.article.pk)
    PageVersion.objects.filter(scope=scope).update(version=F("version") + 1)
    # This process trusts the version it read for NEWSDESK_PAGE_VERSION_SECONDS...
    assert cache_state(client, url) == "hit"
    pagecache.forget_versions([scope])  # ...as if that second had passed
    assert cache_state(client, url) == "miss"
    assert cache_state(client, url) == "hit"


def test_versions_survive_a_lost_row(client, world):
    url = world.article.get_absolute_url()
    get(client, url)
    PageVersion.objects.all().delete()  # e.g. a restored database: never serve the old entry
    pagecache.forget_versions([pagecache.article_scope(world.article.pk)])
    assert cache_state(client, url) == "miss"
    assert cache_state(client, url) == "hit"


def test_pages_never_changed_are_cached_too(client, django_capture_on_commit_callbacks):
    # Articles stored without signals (bulk_create) have no version row: version 0.
    src = web_data.source("rt", "Russia Today", "https://www.rt.com/")
    item = web_data.article(src, 5, title="Stored in bulk")
    assert not PageVersion.objects.exists()
    url = item.get_absolute_url()
    assert cache_state(client, url) == "miss" and cache_state(client, url) == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        item.save()
    assert cache_state(client, url) == "miss"


def test_missing_pages_leave_no_versions_behind(client, world):
    count = PageVersion.objects.count()
    get(client, "/articles/987654/", 404)
    assert PageVersion.objects.count() == count


def test_a_cached_page_costs_one_query(client, world, django_assert_max_num_queries):
    url = world.article.get_absolute_url()
    get(client, url)
    with django_assert_max_num_queries(1):
        assert cache_state(client, url) == "hit"


def test_a_waiting_message_bypasses_the_cache(client, world):
    url = world.article.get_absolute_url()
    get(client, url)
    client.cookies["messages"] = "something"
    assert cache_state(client, url) == "bypass"


def test_cache_can_be_turned_off(client, world, settings):
    settings.NEWSDESK_PAGE_CACHE_SECONDS = 0
    url = world.article.get_absolute_url()
    assert cache_state(client, url) == "bypass" and cache_state(client, url) == "bypass"


def test_anonymous_pages_hold_no_csrf_token_and_are_publicly_cacheable(client, world):
    for url in (world.article.get_absolute_url(), "/"):
        for state in ("miss", "hit"):
            response = get(client, url)
            assert response[pagecache.HEADER] == state
            assert "csrfmiddlewaretoken" not in text_of(response) and not response.cookies
            control = response["Cache-Control"]
            assert "public" in control and "max-age=0" in control and "s-maxage=2" in control
            assert "private" not in control
            assert response["ETag"].startswith('"') and response["Last-Modified"]
    # Two readers get the very same bytes.
    assert (
        Client().get(world.article.get_absolute_url()).content == Client().get(world.article.get_absolute_url()).content
    )


def test_conditional_get_is_answered_with_304_until_the_page_changes(client, world, django_capture_on_commit_callbacks):
    url = world.article.get_absolute_url()
    first = get(client, url)
    etag = first["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        comments_changed.send(sender=None, article_id=world.article.pk)
    # A new version whose page came out the same (nothing visible changed): still 304.
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        world.article.title = "A changed headline"
        world.article.save()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed[pagecache.HEADER] == "miss"
    assert changed["ETag"] != etag and "A changed headline" in text_of(changed)


def test_logged_in_readers_bypass_every_cache(client, world):
    url = world.article.get_absolute_url()
    get(client, url)
    assert cache_state(client, url) == "hit"
    user = User.objects.create_user("reader", "reader@example.org")
    signed_in = Client()
    signed_in.force_login(user)
    for _ in range(2):
        response = get(signed_in, url)
        assert response[pagecache.HEADER] == "bypass"
        assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
        assert "reader" in text_of(response) and "csrfmiddlewaretoken" in text_of(response)
    # ...and their page is never what an anonymous reader gets next.
    anonymous = get(client, url)
    assert anonymous[pagecache.HEADER] == "hit" and "reader" not in text_of(anonymous)
    assert "csrfmiddlewaretoken" not in text_of(anonymous)


def test_the_fast_path_answers_without_the_rest_of_the_stack(client, world, django_assert_num_queries, monkeypatch):
    url = world.article.get_absolute_url()
    first = get(client, url)
    assert first[pagecache.HEADER] == "miss"
    real_page, views_ran = pagecache.page, []

    def counting_page(*args, **kwargs):
        views_ran.append(1)
        return real_page(*args, **kwargs)

    monkeypatch.setattr(pagecache, "page", counting_page)
    with django_assert_num_queries(0):  # the version is remembered for a second
        hit = get(client, url)
    assert hit[pagecache.HEADER] == "hit" and hit.content == first.content and not views_ran
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "ETag",
        "Cache-Control",
        "Content-Type",
    ):
        assert hit[header] == first[header], header
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert not views_ran
    # A session or message cookie or another query string goes through the stack.
    client.cookies["sessionid"] = "whatever"
    get(client, url)
    assert len(views_ran) == 1
    del client.cookies["sessionid"]
    client.cookies["messages"] = "x"
    assert get(client, url)[pagecache.HEADER] == "bypass" and len(views_ran) == 2
    del client.cookies["messages"]
    get(client, url + "?x=1")
    assert len(views_ran) == 3


def test_a_page_with_a_csrf_token_is_never_cached(client, world, monkeypatch):
    real = pagecache.render_html

    def with_form(request, template, context):
        form = '<input name="csrfmiddlewaretoken" value="x">'
        return real(request, template, context).replace("</main>", form + "</main>")

    monkeypatch.setattr(pagecache, "render_html", with_form)
    url = world.article.get_absolute_url()
    assert cache_state(client, url) == "bypass" and cache_state(client, url) == "bypass"
    assert "private" in get(client, url)["Cache-Control"]


# --- home and listings --------------------------------------------------------------------


def test_home_shows_top_stories_latest_sections_and_trending(client, world):
    doc = tree(get(client, "/"))
    story = select(doc, ".top-stories .story-item")[0]
    link = select(story, ".story-title a")[0]
    assert link.get("href") == reverse("story", args=[world.story.pk])
    assert "2 publishers" in story.text_content()
    assert [a.text_content() for a in select(story, ".story-sources a")] == ["BBC News", "Russia Today"]
    latest = [a.text_content() for a in select(doc, ".latest .headline a")]
    assert latest[:2] == [web_data.TITLE, world.other.title]
    sections = [a.get("href") for a in select(doc, 'nav[aria-label="Sections"] a')]
    assert "/sections/world/" in sections and len(sections) == 9
    trending = [a.text_content() for a in select(doc, ".trending a")]
    assert trending == ["#Vladimir Putin"]
    alternates = {a.get("type"): a.get("href") for a in select(doc, 'link[rel="alternate"]')}
    assert alternates == {"application/rss+xml": "/rss", "application/atom+xml": "/atom"}


def test_trending_compares_the_last_day_with_the_day_before(world):
    now = timezone.now()
    src = world.article.source
    old = [web_data.article(src, 200 + n, published=now - timedelta(hours=30)) for n in range(3)]
    for a in old:
        web_data.tag(a, "belarus", "Belarus")
    fresh = [web_data.article(src, 300 + n, published=now - timedelta(hours=2)) for n in range(2)]
    for a in fresh:
        web_data.tag(a, "minsk", "Minsk")
    trends = trending_hashtags(now=now).trends
    names = [t.hashtag.name for t in trends]
    # Minsk: 2 today, 0 before (+2); Putin: 2 today (+2) but Minsk is... equal rise, then name.
    assert names[:2] == ["Minsk", "Vladimir Putin"]
    assert "Belarus" not in names  # 1 today, 3 the day before: falling
    minsk = trends[0]
    assert (minsk.recent, minsk.before, minsk.is_new) == (2, 0, True)


def test_pagination_on_every_listing(client, world):
    src = world.article.source
    putin = world.hashtag
    for n in range(35):
        item = web_data.article(src, 1000 + n, published=timezone.now() - timedelta(days=2, minutes=n))
        web_data.enrich(item, section="world")
        web_data.tag(item, putin.slug, putin.name)
    for url in ["/", f"/sources/{src.slug}/", f"/hashtags/{putin.slug}/", "/sections/world/"]:
        first = tree(get(client, url))
        assert select(first, '.pagination a[rel="next"]')[0].get("href") == "?page=2", url
        assert not select(first, '.pagination a[rel="prev"]')
        second = tree(get(client, url + "?page=2"))
        assert select(second, '.pagination a[rel="prev"]')[0].get("href") == "?page=1", url
        assert len(select(second, ".items > li")) >= 5
    assert "Top stories" not in text_of(get(client, "/?page=2"))  # only on the first page


@pytest.mark.parametrize("kind", ["source", "hashtag", "section"])
def test_listings_link_their_feeds(client, world, kind):
    url = {"source": "/sources/rt/", "hashtag": "/hashtags/vladimir-putin/", "section": "/sections/world/"}[kind]
    doc = tree(get(client, url))
    alternates = {a.get("type"): a.get("href") for a in select(doc, 'link[rel="alternate"]')}
    assert alternates == {"application/rss+xml": url + "rss", "application/atom+xml": url + "atom"}
    visible = [a.get("href") for a in select(doc, ".feed-links a")]
    assert visible == [url + "rss", url + "atom"]
    for feed in visible:
        assert get(client, feed).status_code == 200
    assert select(doc, ".items .headline a")


def test_hashtag_page(client, world):
    doc = tree(get(client, "/hashtags/vladimir-putin/"))
    assert select(doc, "h1")[0].text_content() == "#Vladimir Putin"
    assert "Person · 2 articles" in select(doc, ".listing-header .meta")[0].text_content()
    assert get(client, "/hashtags/nobody/", 404)


def test_section_nav_marks_the_current_section(client, world):
    doc = tree(get(client, "/sections/world/"))
    current = select(doc, 'nav[aria-label="Sections"] a[aria-current="page"]')
    assert [a.text_content() for a in current] == ["World"]
