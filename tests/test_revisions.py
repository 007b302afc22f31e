"""What changed: updated articles are fetched again, every version is kept, corrections are
marked, the article page and the API show the diff, and a story's summary drops a
sentence its own article later corrected.

The ingest tests poll a real HTTP server on 127.0.0.1 whose feed and page change between
two polls, in each feed format the site reads (RSS, Atom, JSON Feed, news sitemap).
"""

from __future__ import annotations

import html
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from newsdesk.articles import corrections, revisions
from newsdesk.articles.models import Article, ArticleRevision
from newsdesk.articles.store import ArticleData, save_article
from newsdesk.articles.textdiff import DELETED, INSERTED, SAME, Paragraph, Unchanged, diff_text, diff_words
from newsdesk.pipeline.add import add_url
from newsdesk.sources.models import Entry, Source
from newsdesk.stories.models import StoryMember
from tests.fixtureserver import Reply
from tests.pages import atom, rss

pytestmark = pytest.mark.django_db

_ids = itertools.count()
FIRST = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

LEAD = "At least 12 people were killed when a ferry capsized off the island of Lamu on Sunday, police said."
CORRECTED_LEAD = "At least 15 people were killed when a ferry capsized off the island of Lamu on Sunday, police said."
REST = [
    "The ferry was carrying about 60 passengers from the mainland to the island when strong winds "
    "overturned it a short distance from the harbour, according to the county commissioner.",
    "Rescue teams from the coast guard and local fishermen pulled 41 survivors from the water and "
    "took them to the district hospital, where several were being treated for exhaustion.",
    "The regional transport authority said it would open an inquiry into the vessel's licence and "
    "into why it left port after a weather warning had been issued for the area.",
]
NOTE = "Correction: An earlier version of this article misstated the number of people killed. It is 15, not 12."


@pytest.fixture
def prefix() -> str:
    return f"/rev{next(_ids)}"


def page(title: str, paragraphs: list[str], published: datetime = FIRST) -> Reply:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    document = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{published.isoformat()}"></head>
<body><main><article><h1>{html.escape(title)}</h1><p class="byline">By Amina Wanjiru</p>{body}</article></main></body></html>"""
    return Reply(200, document.encode(), {"Content-Type": "text/html; charset=utf-8"})


def json_feed(items: list[dict]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Coast News",
            "items": [
                {
                    "id": i["link"],
                    "url": i["link"],
                    "title": i["title"],
                    "date_published": FIRST.isoformat(),
                    "date_modified": i["updated"].isoformat(),
                }
                for i in items
            ],
        }
    ).encode()


def sitemap(items: list[dict]) -> bytes:
    urls = "".join(
        f"<url><loc>{html.escape(i['link'])}</loc><lastmod>{i['updated'].isoformat()}</lastmod></url>" for i in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def rss_updated(items: list[dict]) -> bytes:
    """RSS 2.0 whose items carry atom:updated (as WordPress and many CMSs add it)."""
    document = rss([{"title": i["title"], "link": i["link"], "published": FIRST} for i in items]).decode()
    for i in items:
        marker = f"<link>{html.escape(i['link'])}</link>"
        document = document.replace(marker, marker + f"<atom:updated>{i['updated'].isoformat()}</atom:updated>")
    return document.encode()


FORMATS = {
    "rss": (rss_updated, "application/rss+xml", "feed.xml"),
    "atom": (atom, "application/atom+xml", "feed.atom"),
    "json": (json_feed, "application/feed+json", "feed.json"),
    "sitemap": (sitemap, "application/xml", "sitemap.xml"),
}


def fetch_once() -> None:
    call_command("fetch", once=True, verbosity=0)


def publish(server, prefix: str, kind: str, paragraphs: list[str], updated: datetime, title: str) -> str:
    build, media, name = FORMATS[kind]
    link = server.url(f"{prefix}/2026/11/30/ferry")
    server.route(f"{prefix}/2026/11/30/ferry", page(title, paragraphs))
    server.route(
        f"{prefix}/{name}",
        Reply(200, build([{"title": title, "link": link, "updated": updated}]), {"Content-Type": media}),
    )
    return server.url(f"{prefix}/{name}")


# --- Through the ingest ----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FORMATS))
def test_an_update_the_feed_announces_is_fetched_and_kept_as_a_revision(fixture_server, prefix, kind):
    title = "Ferry capsizes off Lamu"
    feed = publish(fixture_server, prefix, kind, [LEAD, *REST], FIRST, title)
    add_url(feed)
    fetch_once()
    article = Article.objects.get()
    assert LEAD in article.body_text and not ArticleRevision.objects.exists()

    # The next poll: the feed is the same, nothing is fetched again, nothing is kept.
    page_hits = len(fixture_server.hits(f"{prefix}/2026/11/30/ferry"))
    fetch_once()
    assert len(fixture_server.hits(f"{prefix}/2026/11/30/ferry")) == page_hits
    assert not ArticleRevision.objects.exists()

    # The publisher corrects the figure, adds a note, and the feed says it was updated.
    publish(fixture_server, prefix, kind, [CORRECTED_LEAD, *REST, NOTE], FIRST + timedelta(hours=3), title)
    fetch_once()
    assert len(fixture_server.hits(f"{prefix}/2026/11/30/ferry")) == page_hits + 1
    updated = Article.objects.get()
    assert updated.pk == article.pk and CORRECTED_LEAD in updated.body_text and LEAD not in updated.body_text
    revision = ArticleRevision.objects.get()
    assert revision.article_id == article.pk
    assert revision.body_text == article.body_text  # the replaced text, whole
    assert revision.title is None  # only the fields that changed are kept
    assert revision.is_correction and revision.note_kind == corrections.CORRECTION
    assert revision.note.startswith("Correction: An earlier version")
    assert Entry.objects.get().state == Entry.State.DONE


def test_a_new_headline_in_the_feed_is_an_update_too(fixture_server, prefix):
    feed = publish(fixture_server, prefix, "rss", [LEAD, *REST], FIRST, "Ferry capsizes off Lamu")
    add_url(feed)
    fetch_once()
    # RSS without any updated date: the changed headline is the feed's word for it.
    link = fixture_server.url(f"{prefix}/2026/11/30/ferry")
    fixture_server.route(
        f"{prefix}/2026/11/30/ferry", page("Ferry capsizes off Lamu, 15 dead", [CORRECTED_LEAD, *REST])
    )
    fixture_server.route(
        f"{prefix}/feed.xml",
        Reply(
            200,
            rss([{"title": "Ferry capsizes off Lamu, 15 dead", "link": link, "published": FIRST}]),
            {"Content-Type": "application/rss+xml"},
        ),
    )
    fetch_once()
    article = Article.objects.get()
    assert article.title == "Ferry capsizes off Lamu, 15 dead"
    revision = ArticleRevision.objects.get()
    assert revision.title == "Ferry capsizes off Lamu" and not revision.is_correction


# --- The store ---------------------------------------------------------------------------


@pytest.fixture
def source() -> Source:
    return Source.objects.create(name="Coast News", slug="coast-news", home_url="https://coast.example/")


def data(source: Source, body: list[str], title: str = "Ferry capsizes off Lamu", **extra) -> ArticleData:
    return ArticleData(
        url="https://coast.example/ferry",
        source_id=source.pk,
        title=title,
        body_text="\n\n".join(body),
        body_html="".join(f"<p>{html.escape(p)}</p>" for p in body),
        **extra,
    )


def test_each_version_is_kept_and_rebuilt(source):
    versions = [[LEAD, *REST], [CORRECTED_LEAD, *REST, NOTE], [CORRECTED_LEAD, *REST[:2], NOTE]]
    for body in versions:
        save_article(data(source, body))
    _, outcome = save_article(data(source, versions[-1]))
    assert outcome == "unchanged" and ArticleRevision.objects.count() == 2
    article = Article.objects.get()
    changes = revisions.history(article)
    assert [c.is_correction for c in changes] == [False, True]  # newest first; the note came with the first
    first = changes[-1].body
    assert first is not None and first.inserted_words and first.deleted_words
    lead = next(p for p in first.parts if isinstance(p, Paragraph))
    assert (DELETED, "12") in [(p.kind, p.text) for p in lead.pieces]
    assert (INSERTED, "15") in [(p.kind, p.text) for p in lead.pieces]
    # Only what changed is stored: the second update left the headline alone.
    assert all(r.title is None for r in ArticleRevision.objects.all())


def test_retention_keeps_the_original_the_first_change_and_the_newest(source, settings):
    settings.NEWSDESK_ARTICLE_REVISIONS = 4
    bodies = [[f"Version {n}: {LEAD}", *REST] for n in range(9)]
    bodies[2] = [*bodies[2], NOTE]  # a correction among the changes that will be merged
    for body in bodies:
        save_article(data(source, body))
    rows = list(ArticleRevision.objects.order_by("revised_at", "id"))
    assert len(rows) == 4
    assert [r.updates for r in rows] == [1, 5, 1, 1]
    assert rows[0].body_text.startswith("Version 0:")  # the original text stays
    assert rows[1].is_correction and NOTE in rows[1].note  # a merged correction keeps its note
    article = Article.objects.get()
    changes = revisions.history(article)
    # Rebuilt versions: the merged change runs from version 1 to version 6.
    merged = changes[2].body
    assert merged is not None
    said = "".join(p.text for part in merged.parts if isinstance(part, Paragraph) for p in part.pieces)
    assert "1" in said and "6" in said


def test_the_page_replacing_the_feeds_excerpt_is_no_revision(source, admin_client):
    save_article(data(source, [LEAD], origin=Article.Origin.FEED))
    article, outcome = save_article(data(source, [LEAD, *REST]))
    assert outcome == "updated" and article.origin == Article.Origin.PAGE
    assert not ArticleRevision.objects.exists()
    # A change of the page is one, and staff see it in the admin.
    save_article(data(source, [CORRECTED_LEAD, *REST, NOTE]))
    page = admin_client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    assert "Article revisions" in page and "misstated the number of people killed" in page


def test_a_failed_update_keeps_neither_the_new_text_nor_a_revision(source):
    if connection.vendor != "sqlite":
        pytest.skip("the crash is staged with an SQLite trigger")
    save_article(data(source, [LEAD, *REST]))
    with connection.cursor() as cursor:  # the database refuses the article's UPDATE, after the revision's INSERT
        cursor.execute(
            "CREATE TEMP TRIGGER refuse BEFORE UPDATE ON articles_article "
            "WHEN NEW.body_text LIKE '%15 people%' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    try:
        with pytest.raises(IntegrityError):
            with transaction.atomic():
                save_article(data(source, [CORRECTED_LEAD, *REST, NOTE]))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse")
    assert not ArticleRevision.objects.exists()
    assert LEAD in Article.objects.get().body_text


# --- Corrections and diffs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "is_correction"),
    [
        ("Correction: The minister's name was misspelled in an earlier version.", corrections.CORRECTION, True),
        (
            "An earlier version of this article said the bridge opened in 1998. It opened in 1989.",
            corrections.CORRECTION,
            True,
        ),
        ("This article has been corrected to show that the vote was 7-2.", corrections.CORRECTION, True),
        ("This story has been updated to correct the date of the hearing.", corrections.UPDATE, True),
        ("This story has been updated with a statement from the company.", corrections.UPDATE, False),
        (
            "Clarification: The report was commissioned by the council, not written by it.",
            corrections.CLARIFICATION,
            True,
        ),
        ("Editor's note: This article was amended on 3 December to remove a name.", corrections.EDITORS_NOTE, False),
        ("CORRECTED-Ferry capsizes off Lamu", corrections.CORRECTION, True),
        (
            "Korrektur: In einer früheren Version hieß es, es seien zwölf Menschen gestorben.",
            corrections.CORRECTION,
            True,
        ),
        ("Rectificatif : une version précédente de cet article indiquait 12 morts.", corrections.CORRECTION, True),
        ("Una versión anterior de este artículo decía que murieron 12 personas.", corrections.CORRECTION, True),
    ],
)
def test_publishers_wordings_are_recognised(text, kind, is_correction):
    notes = corrections.notes_in(f"{LEAD}\n\n{text}")
    assert [(n.kind, n.is_correction) for n in notes] == [(kind, is_correction)]


def test_a_note_counts_once_and_ordinary_text_is_no_note():
    assert corrections.notes_in("\n\n".join([LEAD, *REST])) == []
    assert corrections.notes_in("The corrections officer said the prison was full.") == []
    # A note appended to the last paragraph, sentence by sentence.
    long = " ".join(REST) + " " + NOTE
    assert corrections.notes_in(long)[0].kind == corrections.CORRECTION
    old, new = [LEAD, NOTE], [CORRECTED_LEAD, NOTE, "The inquiry will report in March."]
    assert corrections.new_note(old, new) is None  # the note was there already


def test_the_diff_shows_words_not_paragraphs():
    diff = diff_text("\n\n".join([LEAD, *REST]), "\n\n".join([CORRECTED_LEAD, *REST, NOTE]))
    assert isinstance(diff.parts[1], Unchanged) and diff.parts[1].count == 3
    assert [(p.kind, p.text) for p in diff.parts[0].pieces][:3] == [
        (SAME, "At least "),
        (DELETED, "12"),
        (INSERTED, "15"),
    ]
    assert diff.parts[-1].pieces == tuple(diff_words("", NOTE))
    # Rewritten beyond recognition: struck out whole, the new one whole.
    assert [p.kind for p in diff_words(REST[0], REST[1])] == [DELETED, INSERTED]
    # Neighbouring changes read as one phrase.
    assert [(p.kind, p.text) for p in diff_words("12 people died on Sunday", "15 were hurt on Sunday")][:2] == [
        (DELETED, "12 people died"),
        (INSERTED, "15 were hurt"),
    ]


# --- The article page, its cache and the API ------------------------------------------------


def test_the_article_page_shows_what_changed_and_its_cache_follows(source, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article, _ = save_article(data(source, [LEAD, *REST]))
    first = client.get(article.get_absolute_url())
    assert first["X-Page-Cache"] == "miss" and b"What changed" not in first.content
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):  # the page versions move once the update commits
        save_article(data(source, [CORRECTED_LEAD, *REST, NOTE], modified_at=FIRST + timedelta(hours=3)))
    response = client.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"  # the update gave the page a new version
    page = response.content.decode()
    assert 'id="what-changed"' in page and "revisions.css" in page
    assert 'class="rev-flag rev-flag-correction" href="#what-changed">Corrected</a>' in page
    assert "<details" in page and "<details open" not in page  # collapsed by default
    assert '<del><span class="visually-hidden">[removed: </span>12<span class="visually-hidden">]</span></del>' in page
    assert '<ins><span class="visually-hidden">[added: </span>15<span class="visually-hidden">]</span></ins>' in page
    assert 'class="rev-note"' in page and "misstated the number of people killed" in page
    assert "3 unchanged paragraphs" in page
    assert "The publisher dates this version" in page
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"


def test_until_the_summary_is_made_again_the_page_shows_only_what_is_still_said(
    source, client, django_capture_on_commit_callbacks
):
    from tests import web_data

    article, _ = save_article(data(source, [LEAD, *REST]))
    web_data.enrich(
        article,
        summary=f"{LEAD} {REST[0]}",
        key_points=[{"text": LEAD, "sentences": [0]}, {"text": REST[2], "sentences": [3]}],
    )
    page = client.get(article.get_absolute_url()).content.decode()
    assert page.count(LEAD) >= 2  # the body, the summary (and the key point)
    with django_capture_on_commit_callbacks(execute=True):
        save_article(data(source, [CORRECTED_LEAD, *REST, NOTE]))
    page = client.get(article.get_absolute_url()).content.decode()
    summary = page.split('<p class="summary">')[1].split("</p>")[0]
    assert summary == REST[0]  # the corrected sentence is gone from the summary too
    points = page.split('<ol class="key-points"')[1].split("</ol>")[0]
    assert LEAD not in points and html.escape(REST[2]).split("&")[0] in points
    assert 'href="#s-' not in points  # the sentence numbers point into the old text: no links


def test_the_page_escapes_what_the_publisher_changed(source, client):
    save_article(data(source, ["Harbour walls were damaged overnight."]))
    article, _ = save_article(data(source, ["Harbour walls were <script>alert(1)</script> damaged overnight."]))
    page = client.get(article.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_api_carries_the_revisions(source, client):
    save_article(data(source, [LEAD, *REST]))
    article, _ = save_article(data(source, [CORRECTED_LEAD, *REST, NOTE], title="Ferry capsizes off Lamu, 15 dead"))
    body = client.get(f"/api/articles/{article.pk}").json()
    [revision] = body["revisions"]
    assert revision["is_correction"] is True and revision["note_kind"] == "correction"
    assert revision["note"].startswith("Correction:")
    assert {"kind": "ins", "text": ", 15 dead"} in revision["title"]
    assert revision["body"][1] == {"unchanged": 3, "pieces": []}
    assert {"kind": "del", "text": "12"} in revision["body"][0]["pieces"]
    assert revision["words_added"] > 0 and revision["updates"] == 1


def test_the_atom_feed_dates_the_update(source, client):
    article, _ = save_article(data(source, [LEAD, *REST]))
    url = reverse("feed-atom")
    first = client.get(url).content.decode()
    save_article(data(source, [CORRECTED_LEAD, *REST, NOTE]))
    article.refresh_from_db()
    assert article.updated_at > article.created_at
    second = client.get(url).content.decode()
    entry = second.split("<entry>")[1]
    assert f"<updated>{article.updated_at.isoformat()}</updated>" in entry
    assert f"<published>{article.published_at.isoformat()}</published>" in entry
    assert first != second


# --- The story summary ------------------------------------------------------------------------


def test_the_story_summary_drops_a_sentence_its_article_corrected(fixture_server, prefix):
    """Through the real path: the feed announces the update, the ingest fetches and stores
    it, enrichment and placement run again, and the story's summary follows."""
    title = "Ferry capsizes off Lamu"
    feed = publish(fixture_server, prefix, "atom", [LEAD, *REST], FIRST, title)
    add_url(feed)
    fetch_once()
    member = StoryMember.objects.select_related("story").get()
    assert any(LEAD == s["text"] for s in member.story.summary), member.story.summary

    publish(fixture_server, prefix, "atom", [CORRECTED_LEAD, *REST, NOTE], FIRST + timedelta(hours=3), title)
    fetch_once()
    member = StoryMember.objects.select_related("story").get()
    texts = [s["text"] for s in member.story.summary]
    assert texts and LEAD not in texts
    article = Article.objects.get()
    assert all(t in article.body_text for t in texts)


def test_a_story_refreshed_before_the_new_summary_is_made_cites_only_what_is_still_said(source):
    """Between the update and the new enrichment, the old summary's sentence numbers point
    into a text that is gone: a refresh then keeps only sentences the newest text has."""
    from tests import web_data

    article, _ = save_article(data(source, [LEAD, *REST]))
    web_data.enrich(article, summary=f"{LEAD} {REST[0]}")
    article.enrichment.summary_sentences = [0, 1]
    article.enrichment.save()
    story = web_data.story_of([article], "Ferry capsizes off Lamu")
    from newsdesk.stories.refresh import refresh

    assert LEAD in [s["text"] for s in refresh(story).summary]
    save_article(data(source, [CORRECTED_LEAD, *REST, NOTE]))
    story.refresh_from_db()
    texts = [s["text"] for s in refresh(story).summary]
    assert texts == [" ".join(REST[0].split())] or texts == [REST[0]]


def test_the_new_summary_reaches_the_story_when_the_article_is_placed_again(source):
    """A story refreshed in between (another article joined) has only what is still said;
    once the summary is made again, the placement stage brings its new sentence in."""
    from django.utils import timezone

    from newsdesk.stories.assign import place_articles
    from newsdesk.stories.refresh import refresh
    from tests import web_data

    article, _ = save_article(data(source, [LEAD, *REST]))
    enrichment = web_data.enrich(article, summary=f"{LEAD} {REST[0]}")
    story = refresh(web_data.story_of([article], "Ferry capsizes off Lamu"))
    save_article(data(source, [CORRECTED_LEAD, *REST, NOTE]))
    story = refresh(story)
    assert [s["text"] for s in story.summary] == [REST[0]]

    enrichment.summary = f"{CORRECTED_LEAD} {REST[0]}"
    enrichment.enriched_at = timezone.now()
    enrichment.save()
    place_articles([article.pk])  # what the chain runs after the new enrichment
    story.refresh_from_db()
    assert CORRECTED_LEAD in [s["text"] for s in story.summary]
    assert LEAD not in [s["text"] for s in story.summary]
