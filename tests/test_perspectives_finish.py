"""Perspectives through the API, feeds and the story page (issue 17, items 5 and 7):
coverage, claims and conflicts, revisions and primary sources on the article and story
endpoints and a compact form on the story list; the conflicts and corrections in feeds;
corrected articles marked on the story page; the scheduler's repair pass for a lost
alignment; a product's size is no figure; a quotation is printed with one pair of marks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.ai import claims as claim_rules
from newsdesk.ai.claims import extract_claims, figures_in
from newsdesk.articles.models import ArticleRevision
from newsdesk.perspectives import alignment, repair
from newsdesk.perspectives.models import ClaimAlignment, ClaimsExtracted
from newsdesk.perspectives.tasks import align_claims_task
from newsdesk.perspectives.templatetags.claims import inside_quotes
from newsdesk.pipeline.enrich import enrich_articles
from newsdesk.stories.models import StoryMember
from tests import web_data
from tests.task_support import run_row

pytestmark = pytest.mark.django_db

STUDY = "https://doi.org/10.1000/floods.2024.17"
ITALY = [
    (
        "reuters",
        "Floods kill 12 in northern Italy as rivers burst their banks",
        "Flooding in northern Italy has killed 12 people, officials said on Tuesday. "
        "The regional governor said 3,000 residents had been evacuated from their homes. "
        '"We have never seen rain like this in the region," said Stefano Bonaccini, the region\'s president.',
        f'<p>Rainfall was twice the average, <a href="{STUDY}">a study</a> found.</p>',
    ),
    (
        "bbc",
        "Northern Italy floods: 12 dead as rivers burst their banks",
        "Floods in northern Italy have killed 12 people, the civil protection agency said on Tuesday. "
        "About 3,000 people were evacuated from their homes, the governor said. "
        "Schools in the region will stay closed on Wednesday.",
        "<p>Schools will stay closed.</p>",
    ),
    (
        "ansa",
        "Northern Italy floods: death toll rises to 15 as rivers burst their banks",
        "Floods in northern Italy have killed 15 people, the civil protection agency said on Wednesday. "
        "Some 3,000 residents were evacuated from their homes, the regional governor said. "
        '"We have never seen rain like this in the region," said Mayor Luca Rossi.',
        f'<p>See <a href="{STUDY}?utm_source=ansa">the study on rainfall</a> and '
        '<a href="https://www.protezionecivile.gov.it/en/press-release/floods-update.pdf">the statement</a>.</p>',
    ),
]


def newsroom(n: int = 3, *, first: int = 0):
    now = timezone.now()
    made = []
    for k, (slug, title, body, html) in enumerate(ITALY[:n]):
        src = web_data.source(slug, slug.upper(), f"https://{slug}.example/")
        made.append(
            web_data.article(
                src, first + k, title=title, body_text=body, body_html=html, published=now - timedelta(hours=3 - k)
            )
        )
    return made


def aligned_story(n: int = 3):
    articles = newsroom(n)
    enrich_articles([a.pk for a in articles])
    story = web_data.story_of(articles, "Floods in northern Italy")
    alignment.refresh_story(story.pk)
    return story, articles


def correct(article, *, hours_ago: float = 1.0) -> ArticleRevision:
    """The publisher corrected the article: its older text kept as a revision (as the
    store keeps it, newsdesk/articles/revisions.py), the article holding the newer."""
    return ArticleRevision.objects.create(
        article=article,
        revised_at=timezone.now() - timedelta(hours=hours_ago),
        body_text=article.body_text.replace("3,000", "2,000"),
        is_correction=True,
        note_kind="correction",
        note="Correction: an earlier version misstated the number of people evacuated.",
    )


def queued_rows(task) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task.module_path, status="READY"))


def run_queued(task) -> int:
    rows = queued_rows(task)
    for row in rows:
        row = run_row(row)
        assert row.status == "SUCCESSFUL", row.traceback
    return len(rows)


# --- The article endpoint ----------------------------------------------------------------


def test_the_article_api_has_its_storys_coverage_its_claims_conflicts_and_documents(client):
    story, (reuters, bbc, ansa) = aligned_story()
    correct(ansa)
    data = client.get(f"/api/articles/{ansa.pk}").json()

    assert data["story"]["id"] == story.pk
    assert data["coverage"]["publishers"] == 3
    kinds = next(d for d in data["coverage"]["dimensions"] if d["key"] == "kind")
    assert sum(p["count"] for p in kinds["parts"]) == 3
    # Conflicts it takes a side in: its 15 against the others' 12, its speaker against theirs.
    conflicts = {c["what"]: c for c in data["conflicts"]}
    assert set(conflicts) == {"deaths", "who said it"}
    newer = conflicts["deaths"]["versions"][1]
    assert newer["value"] == "15 people" and newer["newer"] is True
    assert [c["article"] for c in newer["citations"]] == [ansa.pk]
    # The claims it states alike with others, and only those.
    assert data["claims"] and all(any(c["article"] == ansa.pk for c in k["citations"]) for k in data["claims"])
    evacuated = next(k for k in data["claims"] if k["what"] == "people")
    assert evacuated["publishers"] == 3 and evacuated["of_publishers"] == 3
    # The documents it links to, with every publisher of the story that links to each.
    by_url = {p["url"]: p for p in data["primary_sources"]}
    assert set(by_url) == {STUDY, "https://www.protezionecivile.gov.it/en/press-release/floods-update.pdf"}
    assert sorted(p["slug"] for p in by_url[STUDY]["publishers"]) == ["ansa", "reuters"]
    # And its own revisions, as before.
    assert [r["is_correction"] for r in data["revisions"]] == [True]

    # An article that links to nothing, states no shared claim in a conflict: empty lists.
    bbc_data = client.get(f"/api/articles/{bbc.pk}").json()
    assert bbc_data["primary_sources"] == [] and bbc_data["revisions"] == []
    assert {c["what"] for c in bbc_data["conflicts"]} == {"deaths"}  # its 12 is a side; it quotes no one


def test_an_article_in_no_story_has_its_own_documents_and_nothing_else(client):
    [reuters] = newsroom(1)
    data = client.get(f"/api/articles/{reuters.pk}").json()
    assert data["story"] is None and data["coverage"] is None
    assert data["claims"] == [] and data["conflicts"] == []
    assert [p["url"] for p in data["primary_sources"]] == [STUDY]
    assert [p["slug"] for p in data["primary_sources"][0]["publishers"]] == ["reuters"]


# --- The story endpoint and the story list -------------------------------------------------


def test_the_story_api_gives_each_members_changes_and_the_story_at_a_glance(client):
    story, (reuters, bbc, ansa) = aligned_story()
    revision = correct(bbc, hours_ago=2)
    data = client.get(f"/api/stories/{story.pk}").json()

    changes = {m["article"]["id"]: m["changes"] for m in data["members"]}
    assert changes[bbc.pk]["corrected"] is True and changes[bbc.pk]["revisions"] == 1
    assert changes[bbc.pk]["updates"] == 1
    assert changes[bbc.pk]["corrected_at"].startswith(revision.revised_at.isoformat()[:19])
    assert changes[bbc.pk]["last_changed_at"] == changes[bbc.pk]["corrected_at"]
    assert changes[reuters.pk] == {
        "revisions": 0,
        "updates": 0,
        "corrected": False,
        "corrected_at": None,
        "last_changed_at": None,
    }
    glance = data["perspectives"]
    assert glance["publishers"] == 3 and sum(k["count"] for k in glance["kinds"]) == 3
    assert sum(r["count"] for r in glance["regions"]) == 3
    assert glance["agreements"] == len(data["claims"]) >= 1
    assert glance["conflicts"] == len(data["conflicts"]) == 2
    assert glance["corrected_articles"] == 1
    assert {p["url"] for p in data["primary_sources"]} >= {STUDY}


def make_stories(count: int, start: int) -> list:
    """Stories of two publishers, each aligned (two agreements, one conflict) and one of
    its articles corrected: everything the list's compact form reads."""
    made = []
    for k in range(count):
        a = web_data.article(web_data.source("reuters", "REUTERS", "https://reuters.example/"), start + 2 * k)
        b = web_data.article(web_data.source("bbc", "BBC", "https://bbc.example/"), start + 2 * k + 1)
        story = web_data.story_of([a, b], f"Story {start + k}")
        ClaimAlignment.objects.create(
            story=story,
            version=alignment.VERSION,
            summary={"publishers": 2, "agreements": [{}, {}], "conflicts": [{}]},
            agreement_count=2,
            conflict_count=1,
        )
        correct(a)
        made.append(story)
    return made


def test_the_story_list_has_the_compact_form_in_a_fixed_number_of_queries(client):
    make_stories(2, 100)

    def listed(limit: int) -> tuple[int, dict]:
        client.get(f"/api/stories?limit={limit}")  # caches warm (profiles, coverage)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/stories?limit={limit}")
        assert response.status_code == 200
        return len(queries), response.json()

    few, data = listed(2)
    assert len(data["items"]) == 2
    make_stories(5, 200)
    many, data = listed(7)
    assert len(data["items"]) == 7
    assert many == few  # no query per story
    for item in data["items"]:
        glance = item["perspectives"]
        assert glance["agreements"] == 2 and glance["conflicts"] == 1 and glance["corrected_articles"] == 1
        assert glance["publishers"] == 2 and sum(k["count"] for k in glance["kinds"]) == 2
        assert "coverage" in item  # the full breakdown stays


def test_stored_counts_follow_the_alignment():
    story, _ = aligned_story()
    row = ClaimAlignment.objects.get(story=story)
    assert row.agreement_count == len(row.summary["agreements"]) >= 1
    assert row.conflict_count == len(row.summary["conflicts"]) == 2


# --- Feeds ------------------------------------------------------------------------------------


def test_the_story_feed_says_where_publishers_agree_and_differ_and_marks_corrections(client):
    story, (reuters, bbc, ansa) = aligned_story()
    correct(bbc)
    for kind in ("rss", "atom"):
        feed = client.get(f"/stories/{story.pk}/{kind}").content.decode()
        assert "Its publishers agree on " in feed and "differ on 2 (deaths, who said it)." in feed
        items = feed.split("<item>" if kind == "rss" else "<entry>")[1:]
        by_title = {next(t for _, t, *_ in ITALY if t in item): item for item in items for _ in [0]}
        assert "(Other publishers differ on: deaths, who said it.)" in by_title[ITALY[2][1]]
        assert "(Other publishers differ on: deaths.)" in by_title[ITALY[1][1]]
        assert "(Corrected " in by_title[ITALY[1][1]]
        assert "(Corrected " not in by_title[ITALY[0][1]] and "(Corrected " not in by_title[ITALY[2][1]]
    latest = client.get("/rss").content.decode()
    assert latest.count("(Corrected ") == 1 and "differ on" not in latest  # the story's line is the story feed's


# --- The story page ---------------------------------------------------------------------------


def test_the_story_page_marks_the_corrected_article_and_links_to_what_changed(client):
    story, (reuters, bbc, ansa) = aligned_story()
    page = client.get(story.get_absolute_url()).content.decode()
    assert "story-corrected" not in page
    correct(bbc)
    page = client.get(story.get_absolute_url()).content.decode()
    coverage = page.split('id="coverage-title"')[1]
    assert coverage.count('class="badge story-corrected"') == 1
    badge = coverage.split('class="badge story-corrected"')[1].split("</p>")[0]
    assert f'href="/articles/{bbc.pk}/#what-changed"' in badge and "Corrected" in badge and "<time" in badge
    item = coverage.split("<li")[[i for i, part in enumerate(coverage.split("<li")) if "story-corrected" in part][0]]
    assert bbc.title in item  # beside that article, not another
    target = client.get(f"/articles/{bbc.pk}/").content.decode()
    assert 'id="what-changed"' in target and "misstated the number of people evacuated" in target


# --- The scheduler's repair pass ---------------------------------------------------------------


class Stop(BaseException):
    """Ends the scheduler's loop after its first pass (its sleep)."""


@pytest.mark.django_db(transaction=True)  # the scheduler closes old connections, as it should
def test_a_story_whose_alignment_task_was_lost_is_aligned_after_one_scheduler_pass(monkeypatch):
    articles = newsroom(3)
    enrich_articles([a.pk for a in articles])
    story = web_data.story_of(articles, "Floods in northern Italy")
    StoryMember.objects.filter(story=story).update(joined_at=timezone.now() - timedelta(minutes=10))
    assert not ClaimAlignment.objects.filter(story=story).exists()  # its task was lost

    def stop(seconds: float) -> None:
        raise Stop

    monkeypatch.setitem(repair._last, "pass", float("-inf"))
    monkeypatch.setattr("newsdesk.management.commands.scheduler.time.sleep", stop)
    with pytest.raises(Stop):
        call_command("scheduler", interval=0)
    assert run_queued(align_claims_task) == 1
    row = ClaimAlignment.objects.get(story=story)
    assert row.version == alignment.VERSION and row.conflict_count == 2

    # Up to date now: the next pass queues nothing.
    assert repair.tick(force=True) == 0 and not queued_rows(align_claims_task)


def test_the_repair_pass_finds_outdated_and_behind_alignments_once_and_bounded(monkeypatch):
    story, articles = aligned_story()
    StoryMember.objects.filter(story=story).update(joined_at=timezone.now() - timedelta(minutes=10))
    ClaimAlignment.objects.filter(story=story).update(updated_at=timezone.now())
    assert repair.behind() == []

    # A member joined after the last alignment (and longer ago than the grace).
    ClaimAlignment.objects.filter(story=story).update(updated_at=timezone.now() - timedelta(hours=1))
    assert repair.behind() == [story.pk]
    assert repair.tick(force=True) == 1
    assert repair.behind() == []  # its task is queued: not queued twice
    assert repair.tick(force=True) == 0 and len(queued_rows(align_claims_task)) == 1
    run_queued(align_claims_task)
    assert repair.behind() == []

    # An older method's alignment.
    ClaimAlignment.objects.filter(story=story).update(version="claims-1+align-2")
    assert repair.behind() == [story.pk]
    # A member that joined a moment ago has its own task coming.
    StoryMember.objects.filter(article=articles[0]).update(joined_at=timezone.now())
    assert repair.behind() == []
    StoryMember.objects.filter(article=articles[0]).update(joined_at=timezone.now() - timedelta(minutes=5))

    # Bounded per pass; most recent first; an old story waits for its next change.
    more = make_stories(3, 300)
    assert set(repair.behind()) == {story.pk}  # the three made are aligned by the current method
    ClaimAlignment.objects.filter(story__in=more).delete()
    assert set(repair.behind()) == {story.pk}  # their members joined just now (grace)
    StoryMember.objects.filter(story__in=more).update(joined_at=timezone.now() - timedelta(minutes=5))
    assert set(repair.behind()) == {story.pk, *(s.pk for s in more)}
    assert len(repair.behind(limit=2)) == 2
    monkeypatch.setattr(repair, "MAX_PER_PASS", 3)
    assert repair.tick(force=True) == 3 and repair.tick(force=True) == 1  # the rest at the next pass
    assert repair.behind() == []
    story.last_seen = timezone.now() - repair.WINDOW - timedelta(hours=1)
    story.save(update_fields=["last_seen"])
    assert story.pk not in repair.behind()


def test_an_idle_repair_pass_is_one_query(django_assert_max_num_queries):
    make_stories(3, 400)
    with django_assert_max_num_queries(2):  # the queued rows, the stories
        assert repair.tick(force=True) == 0
    assert repair.tick() == 0  # not due again within EVERY seconds


# --- Two defects seen on real pages ---------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Apple unveiled the 16-inch MacBook Pro at its event on Tuesday.",
        "The company also sells a 13-inch model alongside the larger laptop.",
        "Samsung launched a 5G phone in Seoul on Wednesday morning.",
        "The 6.1-inch screen is brighter than the last one, reviewers said.",
        "A 64GB iPhone and a 4K TV were the most sold items this week.",
        "It ships with a 12-megapixel camera on the back of the handset.",
    ],
)
def test_a_products_size_before_its_name_is_no_figure(sentence):
    assert figures_in(sentence) == []
    assert extract_claims("", sentence) == []


def test_a_size_that_reports_something_is_still_a_figure():
    assert [(f.text, f.dimension) for f in figures_in("The storm dumped 16 inches of snow on the city.")] == [
        ("16 inches", "unit:inch")
    ]
    assert [f.dimension for f in figures_in("The phone comes with 64GB of storage, the company said.")] == ["unit:GB"]
    assert [f.dimension for f in figures_in("A 10-year-old boy was killed in the crash.")] == ["age"]
    assert [f.dimension for f in figures_in("It sold 150K units in a week.")] == ["count:unit"]


def test_two_publishers_naming_the_same_model_do_not_agree_on_a_figure():
    first = web_data.article(
        web_data.source("verge", "The Verge", "https://verge.example/"),
        1,
        title="Apple unveils the 16-inch MacBook Pro",
        body_text="Apple unveiled the 16-inch MacBook Pro on Tuesday. It starts at $2,399, the company said.",
    )
    second = web_data.article(
        web_data.source("wired", "Wired", "https://wired.example/"),
        2,
        title="Apple's new 16-inch MacBook Pro is here",
        body_text="Apple on Tuesday unveiled its 16-inch MacBook Pro. The laptop starts at $2,399, Apple said.",
    )
    enrich_articles([first.pk, second.pk])
    story = web_data.story_of([first, second], "Apple's 16-inch MacBook Pro")
    alignment.refresh_story(story.pk)
    summary = ClaimAlignment.objects.get(story=story).summary
    assert all(a["what"] != "inches" for a in summary["agreements"])
    assert [a["value"] for a in summary["agreements"] if a["what"] == "amount in USD"] == ["$2,399"]


def test_claims_stored_by_the_older_rules_are_extracted_again():
    story, articles = aligned_story(2)
    assert "claims-2" in alignment.VERSION and claim_rules.VERSION == "claims-2"
    ClaimsExtracted.objects.filter(article__in=articles).update(version="claims-1")
    ClaimAlignment.objects.filter(story=story).update(version="claims-1+align-2")
    alignment.refresh_story(story.pk)
    assert set(ClaimsExtracted.objects.filter(article__in=articles).values_list("version", flat=True)) == {"claims-2"}


@pytest.mark.parametrize(
    ("stored", "printed"),
    [
        ("“We will rebuild every home in the valley.”", "We will rebuild every home in the valley."),
        ('"We will rebuild every home."', "We will rebuild every home."),
        ("Bonaccini said: “We will rebuild every home.”", "Bonaccini said: ‘We will rebuild every home.’"),
        ('Bonaccini said: "We will rebuild every home."', "Bonaccini said: ‘We will rebuild every home.’"),
        ("“We will rebuild,” he said, “every home.”", "‘We will rebuild,’ he said, ‘every home.’"),
        ("Floods in northern Italy have killed 12 people.", "Floods in northern Italy have killed 12 people."),
    ],
)
def test_a_quotation_is_printed_inside_one_pair_of_marks(stored, printed):
    assert inside_quotes(stored) == printed


def test_the_story_page_prints_an_agreed_quotation_without_a_doubled_mark(client):
    said = "The governor said: “We will rebuild every home in the valley before the winter.”"
    made = []
    for k, slug in enumerate(("reuters", "bbc")):
        src = web_data.source(slug, slug.upper(), f"https://{slug}.example/")
        made.append(
            web_data.article(
                src, 500 + k, title=f"Floods: the governor speaks ({slug})", body_text=f"Rivers rose overnight. {said}"
            )
        )
    enrich_articles([a.pk for a in made])
    story = web_data.story_of(made, "The governor speaks")
    alignment.refresh_story(story.pk)
    page = client.get(story.get_absolute_url()).content.decode()
    claim = page.split('class="clm-claim"')[1].split("</p>")[0]
    assert "<q>The governor said: ‘We will rebuild every home in the valley before the winter.’</q>" in claim
    assert "”</q>" not in page and ".”" not in claim


# --- Claims beyond English --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("de", "Der Umsatz stieg um 3,5 Prozent auf 1.234,5 Millionen Euro.",
         [("3,5 Prozent", "percent", 3.5), ("1.234,5 Millionen Euro", "money:EUR", 1_234_500_000.0)]),
        ("de", "Die Firma zahlte 2,3 Mio. € an die Stadt.", [("2,3 Mio. €", "money:EUR", 2_300_000.0)]),
        ("de", "Bei dem Unglück gab es mindestens 12 Tote und 30 Verletzte.",
         [("12 Tote", "count:death", 12.0), ("30 Verletzte", "count:injured", 30.0)]),
        ("fr", "Le chiffre d'affaires a atteint 1 234 millions d'euros, en hausse de 4,2 %.",
         [("1 234 millions d'euros", "money:EUR", 1_234_000_000.0), ("4,2 %", "percent", 4.2)]),
        ("fr", "Le bilan est de 15 morts et 40 blessés, selon les autorités.",
         [("15 morts", "count:death", 15.0), ("40 blessés", "count:injured", 40.0)]),
        ("es", "La empresa ganó 1.500 millones de dólares, un 12 por ciento más.",
         [("1.500 millones de dólares", "money:USD", 1_500_000_000.0), ("12 por ciento", "percent", 12.0)]),
        # What a bare number counts, dates, times, scores and years: left out.
        ("de", "Am 3.10.2024 um 12.30 Uhr kamen 200 Menschen ins Stadion.", []),
        ("de", "Das Spiel endete 2:1 vor 30.000 Zuschauern im Jahr 2023.", []),
        ("es", "Unos 3.000 vecinos fueron evacuados de sus casas.", []),
    ],
)  # fmt: skip
def test_figures_in_german_french_and_spanish_are_read_their_way(language, sentence, expected):
    from newsdesk.ai.claims import local_figures_in

    assert [(f.text, f.dimension, f.value) for f in local_figures_in(sentence, language)] == expected


@pytest.mark.parametrize(
    ("language", "sentence", "speaker"),
    [
        ("de", "„Wir werden jedes Haus wieder aufbauen“, sagte Stefano Bonaccini am Dienstag.", "Stefano Bonaccini"),
        ("fr", "« Nous reconstruirons chaque maison », a déclaré Stefano Bonaccini mardi.", "Stefano Bonaccini"),
        ("es", '"Reconstruiremos cada casa del valle", dijo Stefano Bonaccini.', "Stefano Bonaccini"),
        ("de", "„Wir werden jedes Haus wieder aufbauen“, sagte der Minister.", ""),  # a title is no name
    ],
)
def test_quotations_in_their_marks_with_a_named_speaker(language, sentence, speaker):
    [claim] = extract_claims("", sentence, language=language)
    assert claim.kind == "quote" and claim.quote is not None
    assert claim.quote.speaker == speaker and "aufbauen“" not in claim.quote.text and "«" not in claim.quote.text


def test_a_german_story_shows_its_conflicting_toll():
    """Through the alignment: two German publishers, 12 and 15 dead."""
    texts = [
        ("tagesschau", "Hochwasser in Norditalien: 12 Tote", "Bei dem Hochwasser in Norditalien gab es 12 Tote, teilten die Behörden am Dienstag mit."),
        ("dw", "Hochwasser in Norditalien: 15 Tote", "Bei dem Hochwasser in Norditalien gab es 15 Tote, teilten die Behörden am Mittwoch mit."),
    ]  # fmt: skip
    now = timezone.now()
    made = []
    for k, (slug, title, body) in enumerate(texts):
        src = web_data.source(slug, slug.upper(), f"https://{slug}.example/", country="DE")
        item = web_data.article(src, 600 + k, title=title, body_text=body, published=now - timedelta(hours=2 - k))
        item.language = "de"
        item.save(update_fields=["language"])
        made.append(item)
    enrich_articles([a.pk for a in made])
    story = web_data.story_of(made, "Hochwasser in Norditalien")
    alignment.refresh_story(story.pk)
    summary = ClaimAlignment.objects.get(story=story).summary
    deaths = next(c for c in summary["conflicts"] if c["what"] == "deaths")
    assert [v["value"] for v in deaths["versions"]] == ["12 Tote", "15 Tote"]
    assert [v["newer"] for v in deaths["versions"]] == [False, True]
