"""Stories are events: the same subject in two happenings stays two stories.

The hard cases are those where everything that measures similarity says "the same":
one product line in two models (a rumour about one size, a review of another), and
opinion pieces that read like the day's reports on their subject. The texts here are
made up for the tests; the end-to-end cases run the real enrichment (MiniLM, hashtags)
and placement, one page at a time as pages arrive.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.extract import extract
from newsdesk.pipeline.enrich import enrich_articles
from newsdesk.sources.models import Source
from newsdesk.stories import clustering
from newsdesk.stories.assign import place_articles
from newsdesk.stories.models import StoryMember
from newsdesk.stories.opinion import is_opinion
from newsdesk.stories.variants import by_name, conflict, variants

# -- what a headline names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "apart"),
    [
        ("15-inch Surface Laptop expected in spring", "13.5-inch Surface Laptop review", True),
        ('Orbit 12" tablet leaks', "Orbit 10in tablet goes on sale", True),
        ("Galaxy S10 gets a price cut", "Galaxy S20 unveiled in San Francisco", True),
        ("Boeing 737 grounded after second crash", "Boeing 787 wins a large order", True),
        ("Sony confirms PS5 launch date", "PS4 sales pass 100 million", True),
        ("Families of flight MH17 victims sue", "MH370 search resumes in the Indian Ocean", True),
        ("iPhone 11 Pro review", "iPhone 12 to drop the notch", True),
        # The same model, however else the headlines differ.
        ("iPhone 11 Pro review: the camera wins", "Apple's iPhone 11 goes on sale", False),
        ("Galaxy S10 and S10e prices cut", "Samsung Galaxy S10 review", False),
        # Quantities, counters, periods and the publisher's name are not models.
        ("Storm dumps 10 inches of snow on Denver", "Denver digs out after 14 inches of snow", False),
        ("Pistorius trial Day 5: the neighbour testifies", "Pistorius trial Day 8: the phone records", False),
        ("Titanfall sells 2 million copies", "Titanfall 1 million players in a day", False),
        ("Retailer's Q3 profit beats forecasts", "Retailer warns on Q4 outlook", False),
        ("Mayor resigns - WKRN 2 Nashville", "Mayor resigns - FOX 17 Nashville", False),
        ("Company fined $5bn", "Company fined $6bn", False),
        ("UPDATE 2-Mine collapse traps workers", "WRAPUP 1-Mine collapse traps workers", False),
    ],
)
def test_headlines_giving_one_name_two_models_are_apart(first, second, apart):
    assert conflict(by_name(variants(first)), by_name(variants(second))) is apart


def test_what_a_headline_gives_as_variants():
    assert variants("13-Inch laptop with a scissor keyboard expected in 2020") == {("inch", "13")}
    assert variants("Galaxy S10 vs iPhone 11 Pro") == {("s", "10"), ("iphone", "11")}
    assert variants("COVID-19 cases rise 5% in a day") == frozenset()
    assert variants("Game 7 tonight: Submits 107 questions") == frozenset()  # counters, verbs


@pytest.mark.parametrize(
    ("url", "sections", "title", "opinion"),
    [
        ("https://paper.example/opinion/why-the-strike-will-fail", (), "Why the strike will fail", True),
        ("https://paper.example/commentisfree/2021/may/3/the-view-on-ports", (), "The view on ports", True),
        ("https://paper.example/2021/05/03/ports.html", ("Opinion",), "Ports at a standstill", True),
        ("https://paper.example/a/123", ("Op-Ed",), "A port in a storm", True),
        ("https://paper.example/a/124", ("Editorials",), "The ports must reopen", True),
        ("https://paper.example/a/125", (), "Opinion | The ports must reopen", True),
        ("https://paper.example/a/126", (), "The ports must reopen | Editorial", True),
        # Reports, analyses and reviews are about one happening.
        ("https://paper.example/news/opinion-poll-shows-lead", ("Politics",), "Opinion poll shows lead", False),
        ("https://paper.example/analysis/ports-strike", ("Analysis",), "What the strike costs", False),
        ("https://paper.example/reviews/laptop", ("Reviews",), "Laptop review", False),
        ("https://paper.example/world/ports-strike", ("World", "Comments policy"), "Ports strike", False),
    ],
)
def test_opinion_is_read_from_how_the_publisher_files_the_page(url, sections, title, opinion):
    assert is_opinion(url, sections, title) is opinion


def test_a_page_typed_opinion_news_article_is_filed_as_opinion():
    html = (
        """<html><head><title>The ports must reopen</title>
    <script type="application/ld+json">{"@context": "https://schema.org", "@type": "OpinionNewsArticle",
     "headline": "The ports must reopen", "datePublished": "2021-05-03T10:00:00Z"}</script></head>
    <body><article><h1>The ports must reopen</h1>"""
        + "<p>The strike has gone on long enough, and both sides know it. " * 12
        + """
    </p></article></body></html>"""
    )
    page = extract(html.encode(), "https://paper.example/a/127")
    assert "Opinion" in page.sections
    assert is_opinion("https://paper.example/a/127", page.sections, page.title or "")


# -- the clusterer's rules, on vectors that say "the same" ------------------------------

SAME = np.ones(8) / np.sqrt(8)
HOUR = 3600.0


def item(n, title, hours=0.0, *, opinion=False, participants=(), body=SAME):
    return clustering.Item(
        n,
        SAME,
        title,
        hours * HOUR,
        f"paper-{n}",
        entities=frozenset(participants) | {"harbourton"},
        body=body,
        opinion=opinion,
        participants=frozenset(participants),
    )


def test_two_models_of_one_line_stay_apart_however_close_they_read():
    c = clustering.OnlineClusterer()
    rumour = c.add(item(1, "15-inch Surface Laptop with new keyboard expected"))
    review = c.add(item(2, "13.5-inch Surface Laptop review: new keyboard", 30))
    second = c.add(item(3, "Surface Laptop 13.5-inch review: the keyboard", 31))
    assert review.key != rumour.key and second.key == review.key
    # Without the rule the same vectors make one story: the rule is what parts them.
    off = clustering.OnlineClusterer(clustering.Params(variants=False))
    assert (
        len(
            {
                off.add(item(n, t, h)).key
                for n, t, h in [(1, "15-inch Surface Laptop", 0), (2, "13.5-inch Surface Laptop", 30)]
            }
        )
        == 1
    )


def test_opinion_pieces_alone_are_no_event_and_need_a_shared_participant():
    c = clustering.OnlineClusterer()
    o1 = c.add(
        item(1, "Why the government will crush the port strike", 0, opinion=True, participants={"prime-minister-vos"})
    )
    o2 = c.add(
        item(
            2,
            "The view on the port strike: a country at a standstill",
            1,
            opinion=True,
            participants={"prime-minister-vos"},
        )
    )
    assert o2.key != o1.key  # two opinions are two opinions, whatever they share
    # A report of one happening: it names people the opinion pieces do not.
    r1 = c.add(item(3, "Police clear dockworkers from the port terminal", 16, participants={"anna-berg", "dock-union"}))
    assert r1.key not in {o1.key, o2.key}
    r2 = c.add(item(4, "Riot police remove striking dockworkers from the terminal", 17, participants={"dock-union"}))
    assert r2.key == r1.key
    # An opinion piece on that happening, naming its union, joins its reports.
    o3 = c.add(item(5, "The dock union has overplayed its hand", 18, opinion=True, participants={"dock-union"}))
    assert o3.key == r1.key
    # Restoring the stored members reproduces the same state.
    again = clustering.OnlineClusterer()
    again.restore(
        [
            (
                item(
                    1,
                    "Why the government will crush the port strike",
                    0,
                    opinion=True,
                    participants={"prime-minister-vos"},
                ),
                o1.key,
            ),
            (
                item(
                    2,
                    "The view on the port strike: a country at a standstill",
                    1,
                    opinion=True,
                    participants={"prime-minister-vos"},
                ),
                o2.key,
            ),
            (
                item(
                    3, "Police clear dockworkers from the port terminal", 16, participants={"anna-berg", "dock-union"}
                ),
                r1.key,
            ),
        ]
    )
    assert (
        again.add(item(6, "Dockworkers cleared from the terminal", 19, participants={"harbour-police"})).key == r1.key
    )
    assert again.add(item(7, "The strike is a test of the state", 19.5, opinion=True)).key not in {
        o1.key,
        o2.key,
        r1.key,
    }


def test_a_report_joins_an_earlier_opinion_piece_on_the_same_people():
    c = clustering.OnlineClusterer()
    opinion = c.add(
        item(1, "Is a tackle on the pitch a crime?", 0, opinion=True, participants={"joe-marsh", "lee-cole"})
    )
    report = c.add(item(2, "Marsh says Cole started the fight on the pitch", 2, participants={"lee-cole", "joe-marsh"}))
    assert report.key == opinion.key
    other = c.add(item(3, "League reviews violence on the pitch", 3, participants={"football-league"}))
    assert other.key == opinion.key  # the story now has a report: reports join as before


def test_stories_of_opinion_pieces_merge_only_through_a_report_naming_a_participant():
    c = clustering.OnlineClusterer()
    a = c.add(item(1, "Column on the port strike", 0, opinion=True, participants={"dock-union"}))
    b = c.add(item(2, "Editorial on the port strike", 1, opinion=True, participants={"dock-union"}))
    assert a.key != b.key
    # A report naming the union fits both opinion stories: it joins one, and the other
    # merges in, because a report now ties them.
    r = c.add(item(3, "Dock union strike halts the port", 2, participants={"dock-union"}))
    assert r.key in {a.key, b.key}
    assert c.merges and len(c.keys()) == 1


# -- end to end: pages through enrichment and placement ----------------------------------


@pytest.fixture
def sources():
    return [
        Source.objects.create(name=f"Paper {i}", slug=f"paper-{i}", home_url=f"https://p{i}.example/", country="GB")
        for i in range(8)
    ]


def page(source: Source, n: int, path: str, title: str, text: str, hours_ago: float, sections=()) -> Article:
    a = Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/{path}",
        title=title,
        body_text=text,
        language="en",
        content_hash=f"hash-{n}",
        publisher_sections=list(sections),
        published_at=timezone.now() - timedelta(hours=hours_ago),
    )
    assert enrich_articles([a.pk]) == 1
    assert place_articles([a.pk])
    return a


def story(a: Article) -> int:
    return StoryMember.objects.get(article=a).story_id


RUMOUR = (
    "15-inch Surface Laptop with new keyboard expected in the spring",
    "Microsoft will release a 15-inch Surface Laptop with a redesigned keyboard in the first half of next "
    "year, according to a supply chain analyst. The larger model is said to get thinner bezels, a brighter "
    "display and the quieter scissor-switch keyboard that owners of the current laptop have asked for.",
)
REVIEW = (
    "13.5-inch Surface Laptop review: the keyboard finally feels right",
    "Microsoft's 13.5-inch Surface Laptop is the first in the range whose keyboard we would call excellent. "
    "In a week of testing the new scissor-switch keys felt firm and quiet, the display was bright and the "
    "battery lasted a full working day, though the laptop still has too few ports for its price.",
)
REVIEW_2 = (
    "Surface Laptop 13.5-inch review: a better keyboard, the same battery",
    "The 13.5-inch Surface Laptop that went on sale this week fixes the keyboard, Microsoft's weak point, "
    "with quieter scissor-switch keys. In our tests the battery ran for about nine hours and the bright "
    "display impressed, but the laptop still lacks ports and costs more than its rivals.",
)


@pytest.mark.django_db
def test_a_rumour_about_one_model_and_reviews_of_another_are_two_stories(sources):
    rumour = page(sources[0], 1, "2021/05/03/surface-15", *RUMOUR, hours_ago=40)
    review = page(sources[1], 2, "reviews/surface-13", *REVIEW, hours_ago=10)
    review_2 = page(sources[2], 3, "tech/surface-13-review", *REVIEW_2, hours_ago=8)
    assert story(review) == story(review_2)
    assert story(rumour) != story(review)


COLUMN = (
    "Why the government will crush the port strike",
    "The dockworkers of Harbourton are right to be angry, but they have misjudged the government. Ministers "
    "have shown before that they will let the country's ports stand idle for weeks rather than give way, "
    "and the longer the port strike lasts the more public sympathy for the strikers will fade.",
)
EDITORIAL = (
    "The Herald view on the port strike: a country at a standstill | Editorial",
    "Harbourton's port strike has left container ships waiting at sea and shelves emptying across the "
    "country. The government and the dockworkers' union should return to talks: a strike that hurts "
    "everyone but changes nothing is a failure of both sides, and the country cannot wait much longer.",
)
REPORT = (
    "Riot police clear striking dockworkers from Harbourton container terminal",
    "Riot police in Harbourton removed about two hundred striking dockworkers from the port's main container "
    "terminal early on Tuesday, ending a five-day occupation. Union leader Thomas Keller said twelve workers "
    "were arrested, and port operator Harbourton Container Services said ships would be unloaded again today.",
)
REPORT_2 = (
    "Police end occupation of Harbourton port terminal, union says twelve arrested",
    "Police ended the occupation of Harbourton's container terminal on Tuesday morning, carrying out the "
    "striking dockworkers who had held it for five days. Thomas Keller, the union's leader, said twelve "
    "workers were arrested. Harbourton Container Services said unloading would resume later in the day.",
)


RESPONSE = (
    "Thomas Keller's union overplayed its hand at the Harbourton terminal",
    "By occupying the Harbourton container terminal for five days, Thomas Keller and his union turned "
    "public sympathy against the dockworkers. Tuesday's police operation, with twelve arrests, was the "
    "predictable end; Harbourton Container Services will now feel free to refuse the union's demands.",
)


@pytest.mark.django_db
def test_opinion_on_a_subject_stays_out_of_the_coverage_of_one_happening(sources):
    column = page(sources[0], 11, "opinion/why-the-government-will-crush-the-port-strike", *COLUMN, hours_ago=20)
    editorial = page(
        sources[1], 12, "2021/may/3/herald-view-port-strike", *EDITORIAL, hours_ago=19, sections=["Opinion"]
    )
    report = page(sources[2], 13, "world/2021/05/04/harbourton-terminal-cleared", *REPORT, hours_ago=6)
    report_2 = page(sources[3], 14, "news/harbourton-port-occupation-ends", *REPORT_2, hours_ago=5)
    assert story(report) == story(report_2)
    assert len({story(column), story(editorial), story(report)}) == 3
    # An opinion piece on that happening, naming its people, joins its coverage.
    response = page(sources[4], 15, "commentisfree/2021/may/4/union-overplayed-its-hand", *RESPONSE, hours_ago=3)
    assert story(response) == story(report)
