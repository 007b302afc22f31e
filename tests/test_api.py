"""The JSON API (/api/): every resource, filters, pages, tokens, limits, comment rules.

Data is built through the ORM on the real test database; requests go through the whole
Django stack (middleware, CSP, URL routing) with the test client.
"""

from __future__ import annotations

import itertools
import json
import types
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from newsdesk.accounts.models import set_blocked
from newsdesk.api.models import ApiToken, hash_token
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.comments.models import Comment
from newsdesk.sources.models import Feed, Source
from newsdesk.stories.models import NearDuplicate, Story, StoryMember

pytestmark = pytest.mark.django_db
User = get_user_model()
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_limits():
    caches["default"].clear()
    caches["ratelimit"].clear()


# --- Building data -----------------------------------------------------------------------


def make_source(slug: str, name: str | None = None, **fields) -> Source:
    return Source.objects.create(slug=slug, name=name or slug.title(), home_url=f"https://{slug}.example/", **fields)


def make_article(source: Source, title: str, body: str = "", *, age=timedelta(hours=1), **fields) -> Article:
    n = next(_numbers)
    return Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/news/{n}",
        title=title,
        body_text=body,
        content_hash=f"{n:040x}",
        published_at=fields.pop("published_at", timezone.now() - age),
        **fields,
    )


def tag(
    article: Article,
    slug: str,
    *,
    name: str | None = None,
    kind: str = "topic",
    position: int = 0,
    published_at=None,
) -> Hashtag:
    hashtag, _ = Hashtag.objects.get_or_create(slug=slug, defaults={"name": name or slug.title(), "kind": kind})
    ArticleHashtag.objects.create(
        article=article,
        hashtag=hashtag,
        position=position,
        published_at=published_at or article.published_at,
    )
    Hashtag.objects.filter(pk=hashtag.pk).update(article_count=hashtag.article_hashtags.count())
    hashtag.refresh_from_db()
    return hashtag


def enrich(article: Article, section: str, **fields) -> Enrichment:
    return Enrichment.objects.create(
        article=article, section=section, embedding=b"\x00\x3c" * 384, published_at=article.published_at, **fields
    )


def make_story(articles: list[Article], title: str = "A story", **fields) -> Story:
    times = [a.published_at for a in articles] or [timezone.now()]
    story = Story.objects.create(
        title=title,
        first_seen=fields.pop("first_seen", min(times)),
        last_seen=fields.pop("last_seen", max(times)),
        article_count=len(articles),
        publisher_count=fields.pop("publisher_count", len({a.source_id for a in articles})),
        representative=articles[0] if articles else None,
        **fields,
    )
    for article in articles:
        StoryMember.objects.create(article=article, story=story)
    return story


def make_user(name: str, *, days_old: int = 30, **fields):
    user = User.objects.create_user(name, f"{name}@example.org", **fields)
    user.date_joined = timezone.now() - timedelta(days=days_old)
    user.save(update_fields=["date_joined"])
    return user


def token_for(user, name: str = "test") -> str:
    return ApiToken.issue(user, name)[1]


def call(method: str, path: str, token: str | None = None, data=None, *, ip: str = "127.0.0.1", **headers):
    client = Client()
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    kwargs = {"REMOTE_ADDR": ip, **headers}
    if data is not None:
        kwargs.update(data=json.dumps(data), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


def get(path: str, token: str | None = None, **kwargs):
    return call("get", path, token, **kwargs)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def world():
    """Two sources, articles with sections, languages, hashtags, ages; one story."""
    bbc = make_source("bbc", "BBC News", country="GB", language="en", kind="public")
    dw = make_source("dw", "Deutsche Welle", country="DE", language="de", kind="public")
    a = {}
    a["quake"] = make_article(
        bbc,
        "Earthquake strikes the coast",
        "A strong earthquake shook the coast today.",
        age=timedelta(hours=2),
        language="en-GB",
        publisher_sections=["World", "Americas"],
    )
    a["vote"] = make_article(
        bbc,
        "Parliament votes on budget",
        "Members of parliament voted on the budget.",
        age=timedelta(days=3),
        language="en",
    )
    a["match"] = make_article(
        dw,
        "Bayern win the cup final",
        "Bayern won the final in Berlin.",
        age=timedelta(days=10),
        language="de",
    )
    a["quake2"] = make_article(
        dw,
        "Quake aftershocks continue",
        "Aftershocks of the earthquake continued.",
        age=timedelta(hours=1),
        language="en",
    )
    enrich(
        a["quake"],
        "world",
        summary="A strong earthquake shook the coast today.",
        summary_sentences=[0],
        key_points=[{"text": "A strong earthquake", "sentences": [0]}],
        methods={"summary": "textrank/2"},
    )
    enrich(a["vote"], "politics")
    enrich(a["match"], "sports")
    tag(a["quake"], "earthquake", kind="topic")
    tag(a["quake2"], "earthquake", kind="topic")
    tag(a["quake"], "chile", kind="place", position=1)
    tag(a["vote"], "parliament", kind="organization")
    story = make_story([a["quake"], a["quake2"]], "Earthquake on the coast")
    return types.SimpleNamespace(bbc=bbc, dw=dw, story=story, **a)


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def staff():
    return make_user("editor", is_staff=True)


# --- Schema, docs, errors ----------------------------------------------------------------


def test_openapi_schema_at_a_stable_url():
    response = get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/articles",
        "/api/articles/{article_id}",
        "/api/articles/{article_id}/related",
        "/api/articles/{article_id}/comments",
        "/api/search",
        "/api/stories",
        "/api/stories/{story_id}",
        "/api/sources",
        "/api/sources/{slug}",
        "/api/sources/{slug}/feeds",
        "/api/feeds/{feed_id}",
        "/api/hashtags",
        "/api/hashtags/{slug}",
        "/api/trending/hashtags",
        "/api/me",
    ]:
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    # Reads say the token is optional; writes require it.
    assert {} in schema["paths"]["/api/articles"]["get"]["security"]
    assert schema["paths"]["/api/sources"]["post"]["security"] == [{"TokenAuth": []}]
    assert "429" in schema["paths"]["/api/articles"]["get"]["responses"]
    assert "embedding" not in json.dumps(schema["components"]["schemas"])


def test_docs_page_works_under_the_content_security_policy():
    response = get("/api/docs")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    # No executable inline script: every <script> has a src, except the JSON data block.
    for opening in html.split("<script")[1:]:
        head = opening.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head, head
    assert "cdn" not in html.lower()
    assert '"/api/openapi.json"' in html
    for asset in ["swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"]:
        assert f"/api/docs/assets/{asset}" in html
        served = get(f"/api/docs/assets/{asset}")
        assert served.status_code == 200
        served.close()
    assert get("/api/docs/assets/..%2Fsettings.py").status_code == 404


def test_index_unknown_paths_and_wrong_methods_answer_json():
    index = get("/api/")
    assert index.status_code == 200 and index.json()["openapi"].endswith("/api/openapi.json")
    missing = get("/api/nothing/here")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")
    assert "no API endpoint" in missing.json()["detail"]
    wrong = call("put", "/api/articles")
    assert wrong.status_code == 405
    assert wrong.json()["detail"].startswith("PUT is not allowed")


def test_missing_items_are_json_404s(world):
    for path, words in [
        ("/api/articles/999999", "no article 999999"),
        ("/api/articles/999999/related", "no article"),
        ("/api/articles/999999/comments", "no article"),
        ("/api/stories/999999", "no story"),
        ("/api/sources/nope", "no source"),
        ("/api/sources/nope/feeds", "no source"),
        ("/api/feeds/999999", "no feed"),
        ("/api/hashtags/nope", "no hashtag"),
    ]:
        response = get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json")
        assert words in response.json()["detail"], path


def test_invalid_parameters_are_422_with_each_problem_named(world):
    response = get("/api/articles?limit=0&section=gossip&language=english!")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("The request is not valid:")
    locations = {tuple(problem["loc"]) for problem in body["errors"]}
    assert ("query", "limit") in locations
    assert ("query", "section") in locations
    assert ("query", "language") in locations
    assert get("/api/articles?limit=101").status_code == 422
    assert get("/api/articles/0").status_code == 422
    assert get("/api/articles/99999999999999999999999").status_code == 422


def test_unexpected_errors_are_json_500s(world, monkeypatch):
    from newsdesk.api import serialize

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(serialize, "article_item", broken)
    response = get("/api/articles")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side; it has been logged."}


def test_json_never_carries_raw_markup(world):
    make_article(world.bbc, "<script>alert(1)</script> & <b>bold</b>", "Text <img src=x onerror=alert(1)>")
    response = get("/api/articles")
    content = response.content.decode()
    assert "<" not in content and ">" not in content and "&" not in content.replace("\\u0026", "")
    titles = [item["title"] for item in response.json()["items"]]
    assert "<script>alert(1)</script> & <b>bold</b>" in titles  # the data itself is intact
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Authorization" in response["Vary"]


# --- Articles ----------------------------------------------------------------------------


def test_articles_newest_first_with_their_source_section_and_hashtags(world):
    response = get("/api/articles")
    assert ids(response) == [world.quake2.pk, world.quake.pk, world.vote.pk, world.match.pk]
    first = response.json()["items"][1]
    assert first["source"] == {"slug": "bbc", "name": "BBC News"}
    assert first["section"] == "world"
    assert [h["slug"] for h in first["hashtags"]] == ["earthquake", "chile"]
    assert first["site_url"].endswith(f"/articles/{world.quake.pk}/")
    assert first["match"] is None
    assert "body_text" not in first and "embedding" not in first


def test_articles_pages(world):
    first = get("/api/articles?limit=3").json()
    assert first["count"] == 4 and len(first["items"]) == 3
    assert first["previous"] is None
    assert "offset=3" in first["next"] and "limit=3" in first["next"]
    second = get(first["next"]).json()
    assert [item["id"] for item in second["items"]] == [world.match.pk]
    assert second["next"] is None and "offset=0" in second["previous"]
    assert get("/api/articles?offset=50").json()["items"] == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("source=bbc", ["quake", "vote"]),
        ("section=politics", ["vote"]),
        ("hashtag=earthquake", ["quake2", "quake"]),
        ("hashtag=%23Earthquake", ["quake2", "quake"]),
        ("language=en", ["quake2", "quake", "vote"]),
        ("language=en-GB", ["quake"]),
        ("language=de", ["match"]),
        ("source=dw&language=en", ["quake2"]),
    ],
)
def test_article_filters(world, query, expected):
    assert ids(get(f"/api/articles?{query}")) == [getattr(world, name).pk for name in expected]


def test_article_date_range(world):
    today = timezone.localdate()
    assert ids(get(f"/api/articles?from={today - timedelta(days=4)}")) == [
        world.quake2.pk,
        world.quake.pk,
        world.vote.pk,
    ]
    assert ids(get(f"/api/articles?to={today - timedelta(days=5)}")) == [world.match.pk]
    span = f"from={today - timedelta(days=11)}&to={today - timedelta(days=2)}"
    assert ids(get(f"/api/articles?{span}")) == [world.vote.pk, world.match.pk]
    backwards = get(f"/api/articles?from={today}&to={today - timedelta(days=1)}")
    assert backwards.status_code == 422
    assert "'to' is before 'from'" in backwards.json()["detail"]


def test_search_through_the_articles_list_and_search(world):
    by_list = get("/api/articles?q=earthquake").json()
    by_search = get("/api/search?q=earthquake").json()
    assert [i["id"] for i in by_list["items"]] == [i["id"] for i in by_search["items"]]
    assert {i["id"] for i in by_search["items"]} == {world.quake.pk, world.quake2.pk}
    # The headline match ranks first.
    assert by_search["items"][0]["id"] == world.quake.pk
    match = by_search["items"][0]["match"]
    assert match["score"] > 0
    assert "<mark>" in match["snippet_html"] and "<mark>" not in match["snippet"]
    assert "earthquake" in match["snippet"].lower()
    assert by_search["count"] == 2


def test_search_with_filters_and_hostile_queries(world):
    assert ids(get("/api/search?q=earthquake&source=dw")) == [world.quake2.pk]
    assert ids(get("/api/search?q=earthquake&hashtag=chile")) == [world.quake.pk]
    assert ids(get("/api/search?q=earthquake&section=sports")) == []
    for hostile in ['"unclosed', "NEAR(a b)", "-only", "*", "title:x OR y"]:
        response = Client().get("/api/search", {"q": hostile})
        assert response.status_code == 200, hostile
    assert get("/api/search").status_code == 422  # q is required
    assert get("/api/search?q=%20%20").json()["items"] == []  # blank is no search, not everything
    assert len(get("/api/articles?q=%20").json()["items"]) == 4  # ... but the list is the list
    assert get("/api/search?q=quake&offset=1001").status_code == 422
    # A NUL in a filter is a clear 422, not a database error (PostgreSQL refuses NUL in text).
    for path in ("/api/search?q=quake&hashtag=chi%00le", "/api/articles?hashtag=%00"):
        response = get(path)
        assert response.status_code == 422 and "NUL" in response.content.decode(), path


def test_search_snippets_are_escaped(world):
    make_article(world.bbc, "Volcano report", "The volcano <script>alert(1)</script> erupted overnight.")
    item = get("/api/search?q=volcano").json()["items"][0]
    snippet = item["match"]["snippet_html"]
    assert "<script" not in snippet and "alert(1)" in snippet and "<mark>volcano</mark>" in snippet
    # FTS5 keeps the markup as escaped text; PostgreSQL's ts_headline drops tags as it parses.
    assert "&lt;script&gt;" in snippet or "script" not in snippet
    plain = item["match"]["snippet"]  # plain text is text; clients escape it
    assert "alert(1)" in plain and ("<script>" in plain or "script" not in plain)


def test_one_article_with_its_enrichment(world):
    NearDuplicate.objects.create(article=world.quake2, original=world.quake, similarity=0.9)
    Comment.objects.create(article=world.quake, author=make_user("bob"), body="First!")
    body = get(f"/api/articles/{world.quake.pk}").json()
    assert body["title"] == "Earthquake strikes the coast"
    assert body["body_text"] == "A strong earthquake shook the coast today."
    assert body["language"] == "en-GB"
    assert body["publisher_sections"] == ["World", "Americas"]
    enrichment = body["enrichment"]
    assert enrichment["summary"] == "A strong earthquake shook the coast today."
    assert enrichment["summary_sentences"] == [0]
    assert enrichment["key_points"] == [{"text": "A strong earthquake", "sentences": [0]}]
    assert enrichment["section"] == "world"
    assert enrichment["methods"] == {"summary": "textrank/2"}
    assert "embedding" not in json.dumps(body)
    assert [h["slug"] for h in body["hashtags"]] == ["earthquake", "chile"]
    assert body["story"]["id"] == world.story.pk
    assert body["comment_count"] == 1
    assert body["duplicate_of"] is None
    assert get(f"/api/articles/{world.quake2.pk}").json()["duplicate_of"] == world.quake.pk
    plain = get(f"/api/articles/{world.match.pk}").json()
    assert plain["enrichment"]["key_points"] == [] and plain["story"] is None
    unenriched = make_article(world.bbc, "Fresh off the wire")
    assert get(f"/api/articles/{unenriched.pk}").json()["enrichment"] is None


def test_article_story_follows_merges(world):
    survivor = make_story([], "Bigger story")
    Story.objects.filter(pk=world.story.pk).update(merged_into=survivor)
    assert get(f"/api/articles/{world.quake.pk}").json()["story"]["id"] == survivor.pk


def test_related_same_story_first_then_shared_entities(world):
    """The article page's ranking: the same story from another publisher first, then
    recent articles on the same entities; nothing older than the window, never itself."""
    other = make_article(world.dw, "Chile counts the damage", age=timedelta(hours=5))
    tag(other, "chile", kind="place")
    stale = make_article(world.dw, "Chile long ago", age=timedelta(days=90))
    tag(stale, "chile", kind="place")
    body = get(f"/api/articles/{world.quake.pk}/related").json()
    assert list(body) == ["items"]
    found = [i["id"] for i in body["items"]]
    assert found[0] == world.quake2.pk
    assert other.pk in found
    assert stale.pk not in found and world.quake.pk not in found
    assert [i["id"] for i in get(f"/api/articles/{world.quake.pk}/related?limit=1").json()["items"]] == [
        world.quake2.pk
    ]
    assert get(f"/api/articles/{world.match.pk}/related").json()["items"] == []
    assert get("/api/articles/999999/related").status_code == 404


# --- Stories -----------------------------------------------------------------------------


def test_stories_newest_or_most_covered_without_merged_ones(world):
    now = timezone.now()
    wide = make_story(
        [world.vote, world.match],
        "Budget and cup",
        last_seen=now - timedelta(days=2),
        publisher_count=5,
    )
    gone = make_story([], "Absorbed", last_seen=now, merged_into=wide)
    newest = ids(get("/api/stories"))
    assert newest == [world.story.pk, wide.pk]
    assert gone.pk not in newest
    assert ids(get("/api/stories?order=covered")) == [wide.pk, world.story.pk]
    assert ids(get("/api/stories?hours=24")) == [world.story.pk]
    assert get("/api/stories?order=random").status_code == 422


def test_one_story_with_its_articles_in_order(world):
    Story.objects.filter(pk=world.story.pk).update(
        hashtags=["earthquake"], summary=[{"text": "A quake hit.", "article": world.quake.pk}]
    )
    body = get(f"/api/stories/{world.story.pk}").json()
    assert body["title"] == "Earthquake on the coast"
    assert body["hashtags"] == ["earthquake"]
    assert body["summary"] == [{"text": "A quake hit.", "article": world.quake.pk}]
    assert [m["article"]["id"] for m in body["members"]] == [world.quake.pk, world.quake2.pk]
    assert body["members"][0]["article"]["source"]["slug"] == "bbc"


def test_a_merged_story_is_404_naming_the_survivor(world):
    survivor = make_story([], "Survivor")
    Story.objects.filter(pk=world.story.pk).update(merged_into=survivor)
    response = get(f"/api/stories/{world.story.pk}")
    assert response.status_code == 404
    assert f"merged into story {survivor.pk}" in response.json()["detail"]


# --- Sources and feeds -------------------------------------------------------------------


def test_sources_and_feeds_for_everyone(world):
    Feed.objects.create(
        source=world.bbc,
        url="https://bbc.example/rss",
        title="Top",
        last_error="timeout",
        error_count=2,
    )
    listing = get("/api/sources").json()
    assert [s["slug"] for s in listing["items"]] == ["bbc", "dw"]
    assert listing["items"][0]["feed_count"] == 1
    assert ids_of(get("/api/sources?country=de")) == ["dw"]
    assert ids_of(get("/api/sources?kind=blog")) == []
    detail = get("/api/sources/bbc").json()
    assert detail["name"] == "BBC News" and detail["kind"] == "public"
    [feed] = detail["feeds"]
    assert feed["url"] == "https://bbc.example/rss"
    assert feed["healthy"] is False and feed["error_count"] == 2 and feed["last_error"] == "timeout"
    assert get("/api/sources/bbc/feeds").json() == detail["feeds"]
    assert get(f"/api/feeds/{feed['id']}").json()["source"] == "bbc"


def ids_of(response) -> list[str]:
    return [item["slug"] for item in response.json()["items"]]


NEW_SOURCE = {
    "name": "The Guardian",
    "slug": "guardian",
    "home_url": "https://www.theguardian.com/",
    "country": "gb",
    "language": "en",
    "kind": "commercial",
}


def test_source_writes_need_a_token(world):
    response = call("post", "/api/sources", data=NEW_SOURCE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "needs an API token" in response.json()["detail"]
    assert call("delete", "/api/sources/bbc").status_code == 401
    assert call("patch", "/api/sources/bbc", data={"name": "x"}).status_code == 401
    assert Source.objects.filter(slug="bbc").exists()


def test_source_writes_are_staff_only(world, alice):
    token = token_for(alice)
    for method, path, data in [
        ("post", "/api/sources", NEW_SOURCE),
        ("patch", "/api/sources/bbc", {"name": "Hacked"}),
        ("delete", "/api/sources/bbc", None),
        ("post", "/api/sources/bbc/feeds", {"url": "https://bbc.example/feed"}),
    ]:
        response = call(method, path, token, data)
        assert response.status_code == 403, (method, path)
        assert "Only staff" in response.json()["detail"]
    assert Source.objects.get(slug="bbc").name == "BBC News"
    assert not Source.objects.filter(slug="guardian").exists()


def test_staff_create_change_and_delete_sources(world, staff):
    token = token_for(staff)
    created = call("post", "/api/sources", token, NEW_SOURCE)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["slug"] == "guardian" and body["country"] == "GB" and body["feeds"] == []
    assert call("post", "/api/sources", token, NEW_SOURCE).status_code == 409

    bad = call(
        "post",
        "/api/sources",
        token,
        {**NEW_SOURCE, "slug": "other", "home_url": "javascript:alert(1)"},
    )
    assert bad.status_code == 422
    assert ["body", "payload", "home_url"] in [e["loc"] for e in bad.json()["errors"]]

    changed = call("patch", "/api/sources/guardian", token, {"name": "Guardian", "kind": "public"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Guardian" and changed.json()["kind"] == "public"
    assert changed.json()["home_url"] == "https://www.theguardian.com/"  # left alone
    assert call("patch", "/api/sources/guardian", token, {"slug": "bbc"}).status_code == 409

    assert call("delete", "/api/sources/guardian", token).status_code == 204
    assert not Source.objects.filter(slug="guardian").exists()
    assert call("delete", "/api/sources/guardian", token).status_code == 404


def test_staff_manage_feeds(world, staff):
    token = token_for(staff)
    created = call("post", "/api/sources/bbc/feeds", token, {"url": "https://BBC.example/rss?utm_source=x"})
    assert created.status_code == 201, created.content
    feed = created.json()
    assert feed["url"] == "https://bbc.example/rss" and feed["enabled"] is True and feed["source"] == "bbc"
    assert Feed.objects.get(pk=feed["id"]).next_fetch_at <= timezone.now()

    again = call("post", "/api/sources/dw/feeds", token, {"url": "https://bbc.example/rss"})
    assert again.status_code == 409 and "already a feed of bbc" in again.json()["detail"]
    assert call("post", "/api/sources/bbc/feeds", token, {"url": "ftp://x"}).status_code == 422

    off = call("patch", f"/api/feeds/{feed['id']}", token, {"enabled": False, "title": "Main"})
    assert off.json()["enabled"] is False and off.json()["title"] == "Main"
    assert call("patch", f"/api/feeds/{feed['id']}", None, {"enabled": True}).status_code == 401

    article = make_article(world.bbc, "From the feed", feed=Feed.objects.get(pk=feed["id"]))
    assert call("delete", f"/api/feeds/{feed['id']}", token).status_code == 204
    assert not Feed.objects.filter(pk=feed["id"]).exists()
    assert Article.objects.filter(pk=article.pk).exists()  # articles stay


# --- Hashtags ----------------------------------------------------------------------------


def test_hashtags_by_article_count(world):
    listing = get("/api/hashtags").json()
    assert ids_of_response(listing) == ["earthquake", "chile", "parliament"]
    assert listing["items"][0]["article_count"] == 2
    assert ids_of_response(get("/api/hashtags?kind=place").json()) == ["chile"]


def ids_of_response(body) -> list[str]:
    return [item["slug"] for item in body["items"]]


def test_trending_hashtags_count_only_the_window(world):
    now = timezone.now()
    for hours in (30, 40, 50):  # many, but outside a 24-hour window
        old = make_article(world.dw, f"Old parliament news {hours}", age=timedelta(hours=hours))
        tag(old, "parliament", kind="organization")
    body = get("/api/trending/hashtags?hours=24").json()
    assert body["hours"] == 24
    # As the home page counts them (newsdesk/articles/trending.py): risen against the day
    # before, and on two articles at least (#chile is on one).
    assert [(i["slug"], i["recent_count"], i["before_count"]) for i in body["items"]] == [("earthquake", 2, 0)]
    week = get("/api/trending/hashtags?hours=168").json()
    assert week["items"][0]["slug"] == "parliament" and week["items"][0]["recent_count"] == 4
    assert abs((timezone.datetime.fromisoformat(body["since"]) - (now - timedelta(hours=24))).total_seconds()) < 60
    assert get("/api/trending/hashtags?hours=0").status_code == 422


def test_one_hashtag_with_its_articles(world):
    body = get("/api/hashtags/earthquake?limit=1").json()
    assert body["name"] == "Earthquake" and body["article_count"] == 2
    assert body["site_url"].endswith("/hashtags/earthquake/")
    assert [i["id"] for i in body["articles"]["items"]] == [world.quake2.pk]
    assert body["articles"]["count"] == 2 and "offset=1" in body["articles"]["next"]


# --- Tokens ------------------------------------------------------------------------------


def test_tokens_are_stored_as_hashes_only(alice):
    token, secret = ApiToken.issue(alice, "laptop")
    assert secret.startswith("nd_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_token(secret) and len(stored.key_hash) == 64
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert stored.prefix == secret[:10]


def test_me_and_token_checks(alice):
    secret = token_for(alice)
    body = get("/api/me", secret).json()
    assert body["username"] == "alice" and body["is_staff"] is False
    assert body["token"]["prefix"] == secret[:10]
    assert ApiToken.objects.get(user=alice).last_used_at is not None
    assert get("/api/me").status_code == 401


@pytest.mark.parametrize("header", ["Bearer nd_wrong", "Bearer ", "bearer   ", "nd_token", "Token nd_x"])
def test_a_bad_token_is_401_even_on_reads(world, header):
    response = get("/api/articles", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="newsdesk"')
    assert response.json()["detail"]


def test_other_authorization_schemes_read_anonymously_but_cannot_write(world):
    basic = "Basic YWxpY2U6c2VjcmV0"  # e.g. a password-protected deployment's own login
    assert get("/api/articles", HTTP_AUTHORIZATION=basic).status_code == 200
    response = call(
        "post",
        f"/api/articles/{world.quake.pk}/comments",
        None,
        {"body": "Hi"},
        HTTP_AUTHORIZATION=basic,
    )
    assert response.status_code == 401
    assert "Unsupported Authorization header" in response.json()["detail"]


def test_revoked_expired_and_inactive_tokens_stop_working(alice):
    token, secret = ApiToken.issue(alice)
    assert get("/api/me", secret).status_code == 200
    token.revoke()
    assert get("/api/me", secret).status_code == 401
    token, secret = ApiToken.issue(alice, expires_at=timezone.now() - timedelta(seconds=1))
    assert get("/api/me", secret).status_code == 401
    token, secret = ApiToken.issue(alice)
    alice.is_active = False
    alice.save()
    response = get("/api/me", secret)
    assert response.status_code == 401
    assert "wrong, expired or revoked" in response.json()["detail"]


def test_api_token_command(alice, capsys):
    call_command("api_token", "alice", "--name", "script")
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("nd_") and "not be shown again" in err
    assert get("/api/me", secret).json()["username"] == "alice"
    call_command("api_token", "alice", "--list")
    listing = capsys.readouterr().out
    assert secret[:10] in listing and "active" in listing and secret not in listing
    call_command("api_token", "alice", "--revoke", secret[:10])
    assert get("/api/me", secret).status_code == 401
    with pytest.raises(Exception, match="no user named"):
        call_command("api_token", "nobody")


@pytest.mark.django_db(transaction=True)  # the command closes the connections when it ends
def test_newsdesk_cli_maps_api_token(alice, capsys):
    from newsdesk.cli import main

    main(["api-token", "alice"])
    secret = capsys.readouterr().out.strip()
    assert ApiToken.objects.filter(user=alice, key_hash=hash_token(secret)).exists()


def test_admin_shows_a_new_token_once(alice):
    admin = User.objects.create_superuser("root", "root@example.org", "x")
    client = Client()
    client.force_login(admin)
    form = {"user": alice.pk, "name": "from admin", "expires_at_0": "", "expires_at_1": ""}
    response = client.post("/admin/api/apitoken/add/", form)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=alice)
    text = response.content.decode()
    secret = text.split('<code id="api-token">', 1)[1].split("</code>", 1)[0]
    assert secret.startswith(token.prefix) and hash_token(secret) == token.key_hash
    assert get("/api/me", secret).json()["username"] == "alice"
    # Nowhere else: not in the list, the change page, nor a pending message.
    for page in ["/admin/api/apitoken/", f"/admin/api/apitoken/{token.pk}/change/"]:
        assert secret not in client.get(page).content.decode()
    assert secret not in str(client.cookies) and secret not in str(dict(client.session))
    # Revoking from the admin.
    client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert get("/api/me", secret).status_code == 401


# --- Rate limits -------------------------------------------------------------------------


def test_anonymous_requests_are_limited_per_address(world, settings):
    settings.NEWSDESK_API_ANON_PER_MINUTE = 3
    for _ in range(3):
        assert get("/api/articles", ip="203.0.113.5").status_code == 200
    limited = get("/api/articles", ip="203.0.113.5")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "Too many requests" in limited.json()["detail"]
    assert get("/api/stories", ip="203.0.113.5").status_code == 429  # one budget for the API
    assert get("/api/articles", ip="203.0.113.6").status_code == 200  # another address


def test_token_requests_are_limited_per_token(world, settings, alice):
    settings.NEWSDESK_API_ANON_PER_MINUTE = 2
    settings.NEWSDESK_API_TOKEN_PER_MINUTE = 4
    first, second = token_for(alice, "one"), token_for(alice, "two")
    for _ in range(4):
        assert get("/api/articles", first).status_code == 200
    assert get("/api/articles", first).status_code == 429
    assert get("/api/me", first).status_code == 429
    assert get("/api/articles", second).status_code == 200  # each token has its own budget
    assert get("/api/articles").status_code == 200  # and the address's anonymous budget is apart


def test_bad_tokens_count_against_the_address(world, settings):
    settings.NEWSDESK_API_ANON_PER_MINUTE = 2
    assert get("/api/articles", "nd_guess1").status_code == 401
    assert get("/api/articles", "nd_guess2").status_code == 401
    assert get("/api/articles", "nd_guess3").status_code == 429


# --- Comments ----------------------------------------------------------------------------


def test_comments_list_shows_what_a_reader_may_see(world, alice):
    bob = make_user("bob")
    article = world.quake
    published = Comment.objects.create(article=article, author=bob, body="Good <b>piece</b>")
    Comment.objects.create(
        article=article,
        author=bob,
        body="spam",
        status=Comment.Status.PENDING,
        held_reason="3 links",
    )
    mine = Comment.objects.create(
        article=article,
        author=alice,
        body="mine, held",
        status=Comment.Status.PENDING,
        held_reason="2 links",
    )
    deleted = Comment.objects.create(article=article, author=bob, body="", status=Comment.Status.DELETED)
    reply = Comment.objects.create(article=article, author=alice, parent=deleted, body="a reply")
    Comment.objects.create(article=article, author=bob, body="rude", status=Comment.Status.HIDDEN)

    anonymous = get(f"/api/articles/{article.pk}/comments").json()
    assert anonymous["published"] == 2
    assert [c["id"] for c in anonymous["items"]] == [published.pk, deleted.pk]
    assert anonymous["items"][0]["body"] == "Good <b>piece</b>" and anonymous["items"][0]["author"] == "bob"
    gone = anonymous["items"][1]
    assert gone["placeholder"] == "[deleted]" and gone["body"] == "" and gone["author"] is None
    assert [r["id"] for r in gone["replies"]] == [reply.pk]

    as_alice = get(f"/api/articles/{article.pk}/comments", token_for(alice)).json()
    assert [c["id"] for c in as_alice["items"]] == [published.pk, mine.pk, deleted.pk]
    assert as_alice["items"][1]["status"] == "pending" and as_alice["items"][1]["held_reason"] == "2 links"

    paged = get(f"/api/articles/{article.pk}/comments?limit=1&offset=1").json()
    assert paged["count"] == 2 and [c["id"] for c in paged["items"]] == [deleted.pk]


def test_posting_a_comment_needs_a_token(world):
    response = call("post", f"/api/articles/{world.quake.pk}/comments", data={"body": "Hello"})
    assert response.status_code == 401
    assert not Comment.objects.exists()
    bad = call("post", f"/api/articles/{world.quake.pk}/comments", "nd_nope", {"body": "Hello"})
    assert bad.status_code == 401


def test_posting_a_comment_and_a_reply(world, alice):
    token = token_for(alice)
    path = f"/api/articles/{world.quake.pk}/comments"
    response = call("post", path, token, {"body": "  Interesting <script>x</script>\r\nSecond line  "})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published" and body["author"] == "alice"
    assert body["body"] == "Interesting <script>x</script>\nSecond line"  # stored as typed, cleaned
    assert "<script>" not in response.content.decode()
    reply = call("post", path, token, {"body": "Replying", "parent": body["id"]})
    assert reply.status_code == 201 and reply.json()["parent"] == body["id"]
    # A reply to a reply joins the top-level comment's thread (the form's rule).
    nested = call("post", path, token, {"body": "Deeper", "parent": reply.json()["id"]})
    assert nested.json()["parent"] == body["id"]
    listing = get(path).json()
    assert [r["body"] for r in listing["items"][0]["replies"]] == ["Replying", "Deeper"]


def test_comment_validation_comes_from_the_comment_form(world, alice):
    token = token_for(alice)
    path = f"/api/articles/{world.quake.pk}/comments"
    empty = call("post", path, token, {"body": " \u200b "})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["msg"] == "Write something before posting."
    control = call("post", path, token, {"body": "bad \x07 bell"})
    assert control.status_code == 422 and "control characters" in control.json()["detail"]
    too_long = call("post", path, token, {"body": "x" * 5001})
    assert too_long.status_code == 422 and "at most 5,000 characters" in too_long.json()["detail"]
    elsewhere = Comment.objects.create(article=world.vote, author=alice, body="On another article")
    other = call("post", path, token, {"body": "Reply", "parent": elsewhere.pk})
    assert other.status_code == 422 and "another article" in other.json()["detail"]
    missing = call("post", path, token, {"body": "Reply", "parent": 999999})
    assert missing.status_code == 422 and "does not exist" in missing.json()["detail"]
    assert call("post", "/api/articles/999999/comments", token, {"body": "Hi"}).status_code == 404
    assert Comment.objects.count() == 1


def test_comment_moderation_rules_apply(world):
    newcomer = make_user("newcomer", days_old=0)
    token = token_for(newcomer)
    path = f"/api/articles/{world.quake.pk}/comments"
    held = call("post", path, token, {"body": "Buy at https://a.example and https://b.example"})
    assert held.status_code == 201
    assert held.json()["status"] == "pending"
    assert held.json()["held_reason"] == "2 links from an account younger than 3 days"
    assert Comment.objects.get(pk=held.json()["id"]).status == Comment.Status.PENDING
    # Readers do not see it; its author does.
    assert get(path).json()["items"] == []
    assert [c["id"] for c in get(path, token).json()["items"]] == [held.json()["id"]]

    moderator = make_user("mod")
    moderator.groups.add(Group.objects.get(name="moderators"))
    links = " ".join(f"https://{n}.example" for n in range(8))
    assert call("post", path, token_for(moderator), {"body": links}).json()["status"] == "published"


def test_blocked_authors_cannot_post(world, alice):
    set_blocked(alice, True, reason="spam")
    response = call("post", f"/api/articles/{world.quake.pk}/comments", token_for(alice), {"body": "Hi"})
    assert response.status_code == 403
    assert "blocked" in response.json()["detail"]
    assert not Comment.objects.exists()


def test_comment_flood_limit_and_double_submit(world, alice, settings):
    settings.NEWSDESK_COMMENTS_PER_MINUTE = 2
    token = token_for(alice)
    path = f"/api/articles/{world.quake.pk}/comments"
    first = call("post", path, token, {"body": "One"})
    assert first.status_code == 201
    twice = call("post", path, token, {"body": "One"})
    assert twice.status_code == 200 and twice.json()["id"] == first.json()["id"]
    assert call("post", path, token, {"body": "Two"}).status_code == 201
    flood = call("post", path, token, {"body": "Three"})
    assert flood.status_code == 429
    assert "You have posted 2 comments in a minute" in flood.json()["detail"]
    assert "kept below" not in flood.json()["detail"]
    assert Comment.objects.filter(author=alice).count() == 2
