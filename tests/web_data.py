"""Reader-site test data built through the ORM: articles with enrichment (summary, key
points pointing at sentences), hashtags, a story across two publishers, and hostile
markup where a careless template would run it. Shared by test_web.py and
test_browser.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from newsdesk.ai.sentences import split_sentences
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.sources.models import Source

# Seed-like article (see ../shared/corpora/seed/daily8-article-page.txt), written for tests.
TITLE = "Russia prepared to wait if Ukraine rejects talks"
PARAGRAPHS = [
    "If the Ukrainian leadership believes waiting is necessary, they are welcome. "
    "We are prepared to wait, Putin said on Friday when asked about direct negotiations hosted by Türkiye.",
    "Moscow believes that negotiations are always required, especially when they lead to peace. "
    "Prisoner swaps and the repatriation of soldiers' remains were a positive outcome of the talks, he added.",
    "The remarks came as Putin met his Belarusian counterpart, Alexander Lukashenko, who is visiting Russia. "
    "Lukashenko stressed that Moscow is his nation's closest ally.",
    "Rooting out the causes of the crisis is the primary objective, Putin said.",
]
BODY_TEXT = "\n\n".join(PARAGRAPHS)
# The same text as the publisher's HTML, with a link in the middle of a sentence.
BODY_HTML = "".join(
    f"<p>{p}</p>"
    for p in [
        PARAGRAPHS[0],
        PARAGRAPHS[1].replace("positive outcome", '<a href="https://example.org/talks">positive outcome</a>'),
        PARAGRAPHS[2],
        PARAGRAPHS[3],
    ]
)
KEY_POINTS = [
    {"text": "Putin says Russia is prepared to wait for Ukraine.", "sentences": [1]},
    {"text": "Prisoner swaps were a positive outcome of the talks.", "sentences": [3]},
    {"text": "Lukashenko calls Moscow his closest ally.", "sentences": [4, 5]},
]
SUMMARY = " ".join(s.text for s in split_sentences(BODY_TEXT)[:2])

XSS_TITLE = 'Storm warning <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'
XSS_BYLINE = '<svg onload="window.__xss=3">Evil Byline</svg>'
XSS_BODY_HTML = (
    '<p>Harbour walls were damaged overnight. <img src="x" onerror="window.__xss=4;alert(4)">'
    "<script>window.__xss=5;alert(5)</script>"
    '<a href="javascript:window.__xss=6">Click for details.</a></p>'
    '<p onclick="window.__xss=7">Repairs will take weeks, officials said.</p>'
)
XSS_BODY_TEXT = "Harbour walls were damaged overnight. Click for details.\n\nRepairs will take weeks, officials said."
XSS_SOURCE = 'Gazette <b onmouseover="window.__xss=8">Bold</b>'


@dataclass
class World:
    article: Article
    other: Article  # the same story from another publisher
    hostile: Article
    hashtag: Hashtag
    story: object


def source(slug: str, name: str, home: str, country: str = "GB") -> Source:
    found, _ = Source.objects.get_or_create(slug=slug, defaults={"name": name, "home_url": home, "country": country})
    return found


def article(
    src: Source,
    n: int,
    *,
    title: str | None = None,
    published: datetime | None = None,
    body_text: str = "",
    body_html: str = "",
    byline: str = "",
    description: str = "",
) -> Article:
    return Article.objects.create(
        source=src,
        url=f"{src.home_url.rstrip('/')}/news/{n}/",
        title=title or f"Article number {n}",
        byline=byline,
        description=description or f"Description of article {n}.",
        body_text=body_text,
        body_html=body_html,
        language="en",
        word_count=len(body_text.split()),
        reading_time=1,
        content_hash=f"hash-{src.slug}-{n}",
        published_at=published or timezone.now(),
    )


def enrich(item: Article, *, section: str = "world", key_points=None, summary: str = "") -> Enrichment:
    return Enrichment.objects.create(
        article=item,
        summary=summary,
        summary_sentences=[0, 1],
        key_points=key_points or [],
        section=section,
        methods={},
        published_at=item.published_at,
    )


def tag(item: Article, slug: str, name: str, kind: str = Hashtag.Kind.PERSON, position: int = 0) -> Hashtag:
    found, _ = Hashtag.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})
    ArticleHashtag.objects.create(article=item, hashtag=found, position=position, published_at=item.published_at)
    found.article_count = found.article_hashtags.count()
    found.save(update_fields=["article_count"])
    return found


def story_of(articles: list[Article], title: str):
    from newsdesk.stories.models import Story, StoryMember

    times = [a.published_at for a in articles]
    story = Story.objects.create(
        title=title,
        representative=articles[0],
        first_seen=min(times),
        last_seen=max(times),
        article_count=len(articles),
        publisher_count=len({a.source_id for a in articles}),
        country_count=1,
    )
    for a in articles:
        StoryMember.objects.create(article=a, story=story)
    return story


def build_world() -> World:
    now = timezone.now()
    rt = source("rt", "Russia Today", "https://www.rt.com/")
    bbc = source("bbc", "BBC News", "https://www.bbc.co.uk/")
    main = article(
        rt,
        1,
        title=TITLE,
        published=now - timedelta(minutes=16),
        body_text=BODY_TEXT,
        body_html=BODY_HTML,
        byline="Jane Reporter",
    )
    enrich(main, key_points=KEY_POINTS, summary=SUMMARY)
    putin = tag(main, "vladimir-putin", "Vladimir Putin", position=0)
    tag(main, "belarus", "Belarus", Hashtag.Kind.PLACE, position=1)
    other = article(
        bbc,
        2,
        title="Putin says Moscow can wait for Kyiv",
        published=now - timedelta(hours=1),
        body_text="Putin said Moscow could wait. Talks in Istanbul have stalled.",
        byline="John Correspondent",
    )
    enrich(other, summary="Putin said Moscow could wait.")
    tag(other, "vladimir-putin", "Vladimir Putin", position=0)
    story = story_of([main, other], "Putin: Russia is prepared to wait for talks")
    evil = source("evil", XSS_SOURCE, "https://evil.example/")
    hostile = article(
        evil,
        3,
        title=XSS_TITLE,
        published=now - timedelta(hours=2),
        body_text=XSS_BODY_TEXT,
        body_html=XSS_BODY_HTML,
        byline=XSS_BYLINE,
        description='<img src=x onerror="window.__xss=9">Harbour damage',
    )
    enrich(
        hostile,
        section="world",
        summary="Harbour walls were damaged overnight.",
        key_points=[{"text": '<b onmouseover="window.__xss=10">Walls</b> damaged', "sentences": [0]}],
    )
    return World(main, other, hostile, putin, story)
