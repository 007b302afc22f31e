"""Lead images end to end: fetched from a real HTTP server on 127.0.0.1 through the
guarded fetcher, checked (size, type, pixels), resized to WebP widths in the default
storage, recorded, served by us with year-long cache headers, and shown on the pages with
srcset, sizes, width and height. Whatever goes wrong with a picture, the article stays."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import Client
from lxml import html as lxml_html
from PIL import Image

from newsdesk.articles.models import Article
from newsdesk.images import stage
from newsdesk.images.models import ArticleImage
from newsdesk.images.variants import ImageRefused, make_variants
from newsdesk.pipeline import chain
from tests import picture_data, web_data
from tests.fixtureserver import Reply
from tests.html_select import select

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test writes its variants to a storage of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.NEWSDESK_IMAGE_WIDTHS = [320, 640, 1280]
    cache.clear()
    yield tmp_path / "media"
    cache.clear()


def news_article(n: int, lead_image: str = "", title: str = "Harbour reopens after the storm") -> Article:
    src = web_data.source("gazette", "The Gazette", "https://gazette.example/")
    item = web_data.article(src, n, title=title, body_text="The harbour reopened on Monday.")
    if lead_image:
        Article.objects.filter(pk=item.pk).update(lead_image=lead_image)
        item.lead_image = lead_image
    return item


def serve(server, path: str, body: bytes, content_type: str = "image/jpeg", **headers: str) -> str:
    server.route(path, Reply(200, body, {"Content-Type": content_type, **headers}))
    return server.url(path)


def png_bomb(width: int = 10_000, height: int = 5_000, rows: int | None = None) -> bytes:
    """A greyscale PNG of width x height zero pixels: about 50 KB that decode to 50
    megapixels (a decompression bomb). `rows`: only that many rows of data (a header
    that claims more than the file holds)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (min(width, 10_000) + 1)  # filter byte + pixels
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height if rows is None else rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def noise(width: int, height: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is as large as it looks."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3)).save(buffer, "PNG")
    return buffer.getvalue()


# --- fetching, checking, storing -------------------------------------------------------


def test_a_real_image_is_fetched_resized_and_recorded(fixture_server, media):
    data = picture_data.photo(1600, 900, "JPEG", seed=1)
    url = serve(fixture_server, "/img/lead-1.jpg", data)
    item = news_article(1, url)

    assert chain.stage("images").run([item.pk]) == chain.Done(1, [item.pk])  # as its task runs it

    image = ArticleImage.objects.get(article=item)
    assert image.state == ArticleImage.State.STORED and image.shown
    assert image.source_url == url and image.alt == "Harbour reopens after the storm"
    assert image.digest == hashlib.sha256(data).hexdigest()
    assert [(v["width"], v["height"]) for v in image.variants] == [(320, 180), (640, 360), (1280, 720)]
    assert (image.width, image.height) == (1280, 720)
    for variant in image.variants:
        assert variant["name"].startswith(f"images/{image.digest[:2]}/{image.digest}-")
        with default_storage.open(variant["name"]) as handle:
            stored = Image.open(io.BytesIO(handle.read()))
            assert stored.format == "WEBP" and stored.size == (variant["width"], variant["height"])
    assert (media / "images" / image.digest[:2]).is_dir()  # in the data dir's media folder
    # The request said what it wants and who asks.
    request = fixture_server.hits("/img/lead-1.jpg")[-1]
    assert "image/webp" in request.headers["accept"] and request.headers["user-agent"].startswith("newsdesk")


def test_the_stage_is_idempotent_and_follows_a_changed_lead_image(fresh_server):
    first = serve(fresh_server, "/a.png", picture_data.photo(800, 600, "PNG", seed=2), "image/png")
    item = news_article(2, first)
    stage.fetch_lead_images([item.pk])
    stage.fetch_lead_images([item.pk])  # a retried task: nothing fetched twice
    assert len(fresh_server.hits("/a.png")) == 1

    second = serve(fresh_server, "/b.webp", picture_data.photo(1000, 700, "WEBP", seed=3), "image/webp")
    Article.objects.filter(pk=item.pk).update(lead_image=second)  # the publisher changed its picture
    stage.fetch_lead_images([item.pk])
    image = ArticleImage.objects.get(article=item)
    assert image.source_url == second and image.shown
    assert [v["width"] for v in image.variants] == [320, 640, 1000]  # never wider than the original


def test_a_narrow_image_is_kept_at_its_own_width():
    variants = make_variants(picture_data.photo(300, 200, "PNG"), [320, 640, 1280], max_pixels=10**7)
    assert [(v.width, v.height) for v in variants] == [(300, 200)]


def test_same_picture_for_two_articles_is_stored_once(fixture_server, media):
    data = picture_data.photo(700, 400, seed=4)
    one = news_article(3, serve(fixture_server, "/stock-1.jpg", data))
    two = news_article(4, serve(fixture_server, "/stock-2.jpg", data))
    stage.fetch_lead_images([one.pk, two.pk])
    names = [ArticleImage.objects.get(article=a).variants for a in (one, two)]
    assert names[0] == names[1]
    assert len(list((media / "images").rglob("*.webp"))) == 3  # 320, 640 and 700, once


@pytest.mark.parametrize(
    "case",
    ["too-large-declared", "too-large-streamed", "html", "svg", "lies-about-type", "bomb", "tiny", "truncated"],
)
def test_refused_images_leave_the_article_without_one(fixture_server, settings, media, case):
    settings.NEWSDESK_IMAGE_MAX_BYTES = 200_000
    big = noise(400, 300)
    assert len(big) > 300_000
    path = f"/refused/{case}"
    if case == "too-large-declared":
        url = serve(fixture_server, path, big, "image/png")
    elif case == "too-large-streamed":  # no Content-Length: the cap holds while reading
        chunks = [big[i : i + 65536] for i in range(0, len(big), 65536)]
        fixture_server.route(path, Reply(200, chunks, {"Content-Type": "image/png"}))
        url = fixture_server.url(path)
    elif case == "html":
        url = serve(fixture_server, path, b"<!doctype html><title>Not found</title>", "text/html; charset=utf-8")
    elif case == "svg":
        svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><script>alert(1)</script></svg>'
        url = serve(fixture_server, path, svg, "image/svg+xml")
    elif case == "lies-about-type":
        url = serve(fixture_server, path, b"<html><script>alert(1)</script></html>" * 10, "image/jpeg")
    elif case == "bomb":
        bomb = png_bomb()
        assert len(bomb) < 200_000
        url = serve(fixture_server, path, bomb, "image/png")
    elif case == "tiny":  # a tracking pixel
        url = serve(fixture_server, path, picture_data.photo(1, 1, "GIF"), "image/gif")
    else:
        url = serve(fixture_server, path, picture_data.photo(1200, 800, "JPEG")[:5000], "image/jpeg")
    item = news_article(10, url)

    assert stage._fetch([item.pk]) == chain.Done(0, [item.pk])  # handed on all the same
    image = ArticleImage.objects.get(article=item)
    assert image.state == ArticleImage.State.FAILED and not image.shown and image.variants == []
    expected = {
        "too-large-declared": "too large",
        "too-large-streamed": "too large",
        "html": "not an image",
        "svg": "not an image",
        "lies-about-type": "not an image",
        "bomb": "pixels is more than",
        "tiny": "too small",
        "truncated": "cannot decode",
    }[case]
    assert expected in image.error, image.error
    assert Article.objects.filter(pk=item.pk).exists()
    assert not (media / "images").exists()  # nothing written


def test_a_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded a bomb"))
    with pytest.raises(ImageRefused) as refused:
        make_variants(png_bomb(), [320], max_pixels=25_000_000)
    assert refused.value.kind == "too-many-pixels"
    # Beyond Pillow's own limit too (a header claiming 100000 x 100000).
    with pytest.raises(ImageRefused) as refused:
        make_variants(png_bomb(100_000, 100_000, rows=10), [320], max_pixels=25_000_000)
    assert refused.value.kind == "too-many-pixels"


def test_private_addresses_are_refused_unless_allowed(fixture_server, settings):
    from newsdesk.sources.client import reset_fetcher

    url = serve(fixture_server, "/private.jpg", picture_data.photo(800, 450))
    item = news_article(11, url)
    settings.NEWSDESK_FETCH_ALLOW_HOSTS = []  # as in production: 127.0.0.1 is private
    reset_fetcher()
    stage.fetch_lead_images([item.pk])
    image = ArticleImage.objects.get(article=item)
    assert image.state == ArticleImage.State.FAILED and "blocked" in image.error
    assert fixture_server.hits("/private.jpg") == []

    # A public-looking host that redirects to a private address is refused at the hop too.
    settings.NEWSDESK_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{fixture_server.port}"]
    reset_fetcher()
    fixture_server.route("/hop.jpg", Reply(302, b"", {"Location": "http://10.0.0.1/secret.jpg"}))
    other = news_article(12, fixture_server.url("/hop.jpg"))
    stage.fetch_lead_images([other.pk])
    assert "10.0.0.1" in ArticleImage.objects.get(article=other).error


def test_an_unexpected_error_costs_only_the_picture(fixture_server, monkeypatch):
    url = serve(fixture_server, "/boom.jpg", picture_data.photo(800, 450))
    item = news_article(13, url)

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("newsdesk.images.store.make_variants", explode)
    assert stage._fetch([item.pk]).next_ids == [item.pk]
    assert "disk on fire" in ArticleImage.objects.get(article=item).error


def test_the_repair_pass_finds_articles_whose_image_was_never_tried(fixture_server):
    from datetime import timedelta

    from django.utils import timezone

    with_image = news_article(14, serve(fixture_server, "/r.jpg", picture_data.photo(800, 450)))
    news_article(15)  # no lead image: nothing to do
    now = timezone.now()
    assert stage._untried(now - timedelta(days=1), now + timedelta(minutes=1)) == [with_image.pk]
    stage.fetch_lead_images([with_image.pk])
    assert stage._untried(now - timedelta(days=1), now + timedelta(minutes=1)) == []


def test_images_can_be_turned_off(fixture_server, settings):
    settings.NEWSDESK_IMAGES = False
    item = news_article(16, serve(fixture_server, "/off.jpg", picture_data.photo(800, 450)))
    assert stage._fetch([item.pk]) == chain.Done(0, [item.pk])
    assert fixture_server.hits("/off.jpg") == []


# --- serving -------------------------------------------------------------------------------


def test_variants_are_served_by_us_with_year_long_cache_headers():
    item = news_article(20)
    image = picture_data.attach(item, seed=2)
    client = Client()
    url = default_storage.url(image.variants[1]["name"])
    assert url.startswith("/media/images/")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert Image.open(io.BytesIO(body)).size == (640, 360)
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again["Cache-Control"] == response["Cache-Control"]
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


@pytest.mark.parametrize(
    "path",
    ["/media/images/../secret_key", "/media/images/ab/nothing.webp", "/media/images/ab/" + "a" * 64 + "-320.webp"],
)
def test_only_stored_variant_names_are_served(path):
    assert Client().get(path).status_code == 404


# --- on the pages ---------------------------------------------------------------------------


def pictures(response) -> list:
    return select(lxml_html.fromstring(response.content), "img.pic")


def test_article_page_shows_the_large_picture_and_listings_thumbnails():
    item = news_article(30)
    image = picture_data.attach(item, seed=1)
    client = Client()

    [lead] = pictures(client.get(item.get_absolute_url()))
    assert "pic-lead" in lead.get("class")
    assert lead.get("alt") == "Harbour reopens after the storm"
    assert (lead.get("width"), lead.get("height")) == ("1280", "720")
    assert lead.get("srcset").count("w,") == 2 and lead.get("srcset").endswith(" 1280w")
    assert "46rem" in lead.get("sizes")
    assert lead.get("fetchpriority") == "high" and lead.get("loading") is None  # the page's main paint
    assert lead.get("src").startswith("/media/images/")  # never the publisher's URL
    assert all(u.startswith("/media/images/") for u in lead.get("srcset").split()[::2])
    assert image.source_url.startswith("https://images.example/")

    for url in ("/", f"/sources/{item.source.slug}/"):
        [thumb] = pictures(client.get(url))
        assert "pic-thumb" in thumb.get("class") and thumb.get("loading") == "lazy"
        assert thumb.get("alt") == ""  # beside its headline: not read twice
        assert thumb.get("width") == "1280" and thumb.get("height") == "720"
        assert "320w" in thumb.get("srcset")


def test_an_article_without_a_picture_or_with_a_failed_one_is_fine():
    plain = news_article(31)
    failed = news_article(32, "https://images.example/broken.jpg")
    ArticleImage.objects.create(
        article=failed, source_url=failed.lead_image, state=ArticleImage.State.FAILED, error="HTTP 404"
    )
    client = Client()
    for item in (plain, failed):
        response = client.get(item.get_absolute_url())
        assert response.status_code == 200 and pictures(response) == []
        assert item.title in response.content.decode()
    home = client.get("/")
    assert home.status_code == 200 and pictures(home) == []
    assert plain.title in home.content.decode() and failed.title in home.content.decode()


def test_a_stored_picture_reaches_the_cached_article_page(fixture_server, django_capture_on_commit_callbacks):
    item = news_article(33, serve(fixture_server, "/cached.jpg", picture_data.photo(900, 500)))
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        pass
    assert pictures(client.get(item.get_absolute_url())) == []
    assert client.get(item.get_absolute_url())["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        stage.fetch_lead_images([item.pk])
    assert len(pictures(client.get(item.get_absolute_url()))) == 1
    assert len(pictures(client.get("/"))) == 1


def test_listings_read_the_pictures_in_the_same_query(django_assert_max_num_queries):
    for n in range(40, 46):
        picture_data.attach(news_article(n, title=f"Article {n}"), seed=n)
    client = Client()
    client.get("/sources/gazette/")  # warm up sessions, versions and the like
    with django_assert_max_num_queries(12):
        response = client.get("/sources/gazette/")
    assert len(pictures(response)) == 6


def test_a_story_shows_its_representatives_picture_else_a_members(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world = web_data.build_world()  # the story: world.article (its representative) and world.other
    client = Client()
    assert not [p for p in pictures(client.get("/")) if "pic-card" in p.get("class")]

    other = picture_data.attach(world.other, seed=3)  # only the other member has a picture
    cache.clear()
    [card] = [p for p in pictures(client.get("/")) if "pic-card" in p.get("class")]
    assert card.get("src") == other.url(640) and card.get("alt") == ""
    [lead] = [p for p in pictures(client.get(f"/stories/{world.story.pk}/")) if "pic-lead" in p.get("class")]
    assert lead.get("src") == other.url(640) and lead.get("alt") == world.other.title

    mine = picture_data.attach(world.article, seed=4)  # now the representative has one: it wins
    cache.clear()
    [card] = [p for p in pictures(client.get("/")) if "pic-card" in p.get("class")]
    assert card.get("src") == mine.url(640)
    story_list = pictures(client.get("/stories/"))
    assert [p.get("src") for p in story_list] == [mine.url(640)]


def test_a_failure_that_may_pass_is_tried_again_later_a_few_times(fresh_server):
    from datetime import timedelta

    from django.utils import timezone

    answers = iter([Reply(503, b"busy", {"Retry-After": "1"}), Reply(200, picture_data.photo(800, 450))])  # no type
    fresh_server.route("/flaky.jpg", lambda request: next(answers))
    item = news_article(50, fresh_server.url("/flaky.jpg"))
    stage.fetch_lead_images([item.pk])
    image = ArticleImage.objects.get(article=item)
    assert image.state == ArticleImage.State.FAILED and image.attempts == 1
    assert image.retry_at is not None and image.retry_at > timezone.now() + timedelta(minutes=14)
    window = (timezone.now() - timedelta(days=1), timezone.now() + timedelta(minutes=1))
    assert stage._untried(*window) == []  # not due yet
    stage.fetch_lead_images([item.pk])  # a retried task before it is due: nothing fetched
    assert len(fresh_server.hits("/flaky.jpg")) == 1

    ArticleImage.objects.filter(article=item).update(retry_at=timezone.now())  # time passes
    assert stage._untried(*window) == [item.pk]
    stage.fetch_lead_images([item.pk])
    image = ArticleImage.objects.get(article=item)
    assert image.shown and image.attempts == 2 and image.retry_at is None, image.error

    # Refusals are final; a failure that may pass gives up after three attempts.
    fresh_server.route("/down.jpg", Reply(503, b"busy"))
    down = news_article(51, fresh_server.url("/down.jpg"))
    for _ in range(3):
        ArticleImage.objects.filter(article=down).update(retry_at=timezone.now())
        stage.fetch_lead_images([down.pk])
    final = ArticleImage.objects.get(article=down)
    assert final.attempts == 3 and final.retry_at is None
    assert len(fresh_server.hits("/down.jpg")) == 3
