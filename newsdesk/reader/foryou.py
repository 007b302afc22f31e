"""For You: a personal front page, ranked by a score the reader can read about.

Candidates (all bounded, each from an index):
* what the reader follows: the newest PER_FOLLOW articles of each followed source,
  hashtag, section and story within WINDOW (one UNION ALL statement over the "latest"
  indexes), and of up to SEARCHES saved searches (their matches as the alerts' fan-out
  recorded them);
* articles near what the reader saved, read or asked "more like this" of: NEIGHBOURS
  nearest articles of each of a few such seeds in the related-articles vector index;
* the day's top stories (newsdesk.stories.pages.top_stories, shared for CACHE_SECONDS).

Each story is one entry: its best article for this reader (from a followed source,
unread, freshest) with "+N sources". Muted sources, hashtags, sections and words never
appear (an article or story carrying one is dropped). The score of an entry is a sum of
named weights (`WEIGHTS`, shown on /reading/for-you/how/):

    score = the reasons (each kind once: followed story, source, hashtag, section, saved
            search; likeness to a seed × its cosine similarity)
          + TOP_STORY (when it is a top story) + COVERAGE × log2(publishers)
          + FRESHNESS × 0.5 ** (age in hours / HALF_LIFE_HOURS)
          + ALREADY_READ (negative, when the reader has read the article)
          + LESS_LIKE × similarity (negative, near an article marked "less like this")

Then publisher diversity: no publisher gets more than PER_PUBLISHER of the entries unless
there is too little else. Feedback (more/less like this, hide a source) is stored at
once, so the next page load ranks with it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sized
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag, from_blob
from newsdesk.reader import nudges
from newsdesk.reader.briefings.models import Activity
from newsdesk.reader.interests import url_of
from newsdesk.reader.models import Follow, HistoryEntry, Interest, Nudge, ReadMark, Saved
from newsdesk.sources.models import Source
from newsdesk.stories import index as vector_index
from newsdesk.stories.models import Story, StoryMember

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

WINDOW = timedelta(days=3)
PER_FOLLOW = 8
MAX_FOLLOWS = 60  # the most recent follows that feed candidates
SEARCHES = 3
SEEDS_SAVED, SEEDS_READ, SEEDS_NUDGED = 2, 2, 6
NEIGHBOURS = 12
MIN_SIMILARITY = 0.45
TOP_STORIES = 12
TOP_MEMBERS = 4
PAGE = 30
PER_PUBLISHER = 3
HALF_LIFE_HOURS = 12.0
CACHE_SECONDS = 60


@dataclass(frozen=True)
class Weight:
    name: str
    value: float
    what: str  # when it applies, in the reader's words (the "how" page)


FOLLOWED_STORY = Weight("followed story", 3.0, "you follow the story")
FOLLOWED_SOURCE = Weight("followed source", 2.0, "you follow its publisher")
FOLLOWED_HASHTAG = Weight("followed hashtag", 2.0, "you follow one of its hashtags")
SAVED_SEARCH = Weight("saved search", 2.0, "it matches one of your saved searches")
FOLLOWED_SECTION = Weight("followed section", 1.0, "you follow its section")
MORE_LIKE = Weight("more like this", 2.5, "it is close to an article you asked more of (× similarity)")
LIKE_SAVED = Weight("like a saved article", 2.0, "it is close to an article you saved (× similarity)")
LIKE_READ = Weight("like a read article", 1.0, "it is close to an article you read (× similarity)")
TOP_STORY = Weight("top story", 1.0, "it is one of the day's top stories")
COVERAGE = Weight("coverage", 0.5, "× log2 of the number of publishers covering the story")
FRESHNESS = Weight("freshness", 2.0, f"× ½ for every {HALF_LIFE_HOURS:g} hours of age")
ALREADY_READ = Weight("already read", -2.0, "you have read this article")
LESS_LIKE = Weight("less like this", -3.0, "it is close to an article you asked less of (× similarity)")
WEIGHTS = [
    FOLLOWED_STORY,
    FOLLOWED_SOURCE,
    FOLLOWED_HASHTAG,
    SAVED_SEARCH,
    FOLLOWED_SECTION,
    MORE_LIKE,
    LIKE_SAVED,
    LIKE_READ,
    TOP_STORY,
    COVERAGE,
    FRESHNESS,
    ALREADY_READ,
    LESS_LIKE,
]
# The reasons an entry names ("why it is here"); the others only move it up or down.
SHOWN = {FOLLOWED_STORY, FOLLOWED_SOURCE, FOLLOWED_HASHTAG, SAVED_SEARCH, FOLLOWED_SECTION}
SHOWN |= {MORE_LIKE, LIKE_SAVED, LIKE_READ, TOP_STORY}


@dataclass
class Reason:
    weight: Weight
    points: float
    text: str = ""
    url: str = ""

    @property
    def points_shown(self) -> str:
        """ "+1.50", "-0.40": the template's floatformat cost more than the rest of a row."""
        return f"{self.points:+.2f}"


@dataclass
class Entry:
    article: Article
    score: float
    reasons: list[Reason]  # shown ones, strongest first
    parts: list[Reason]  # every term of the score
    story_id: int | None = None
    story_title: str = ""
    more_sources: int = 0
    read: bool = False
    nudged: bool | None = None  # "more" (True) or "less" (False) like this, as the reader said

    @property
    def score_shown(self) -> str:
        return f"{self.score:.2f}"


@dataclass
class ForYou:
    entries: list[Entry]
    since: datetime
    follows: int  # how many things the reader follows (0: the page explains how)
    candidates: int


# --- who the reader is -------------------------------------------------------------------


@dataclass
class _Profile:
    sources: dict[int, datetime] = field(default_factory=dict)  # followed source id -> read watermark
    hashtags: dict[int, tuple[str, str]] = field(default_factory=dict)  # followed hashtag id -> (label, url)
    sections: dict[str, tuple[str, str]] = field(default_factory=dict)
    stories: dict[int, tuple[str, str]] = field(default_factory=dict)
    searches: list[tuple[str, str]] = field(default_factory=list)
    muted_sources: set[int] = field(default_factory=set)
    muted_tags: set[int] = field(default_factory=set)
    muted_tag_slugs: set[str] = field(default_factory=set)
    muted_sections: set[str] = field(default_factory=set)
    muted_words: re.Pattern[str] | None = None

    @property
    def follow_count(self) -> int:
        return len(self.sources) + len(self.hashtags) + len(self.sections) + len(self.stories) + len(self.searches)


def _profile(user: AbstractBaseUser) -> _Profile:
    profile = _Profile()
    rows = list(
        Interest.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("kind", "key", "label", "muted")  # at most interests.MAX_PER_READER
    )
    follows = Follow.objects.filter(user=user).order_by("-created_at").values_list("source_id", "read_before")
    profile.sources = dict(follows[:MAX_FOLLOWS])
    tag_slugs = {key for kind, key, _, _ in rows if kind == Interest.Kind.HASHTAG}
    tag_ids = dict(Hashtag.objects.filter(slug__in=tag_slugs).order_by().values_list("slug", "pk")) if tag_slugs else {}
    muted_source_slugs, words = set(), []
    for kind, key, label, muted in rows:
        if muted:
            if kind == Interest.Kind.SOURCE:
                muted_source_slugs.add(key)
            elif kind == Interest.Kind.HASHTAG:
                profile.muted_tag_slugs.add(key)
                if key in tag_ids:
                    profile.muted_tags.add(tag_ids[key])
            elif kind == Interest.Kind.SECTION:
                profile.muted_sections.add(key)
            elif kind == Interest.Kind.WORD:
                words.append(key)
        elif kind == Interest.Kind.HASHTAG and key in tag_ids and len(profile.hashtags) < MAX_FOLLOWS:
            profile.hashtags[tag_ids[key]] = (label or f"#{key}", url_of(kind, key))
        elif kind == Interest.Kind.SECTION:
            profile.sections[key] = (label or key.capitalize(), url_of(kind, key))
        elif kind == Interest.Kind.STORY and key.isdigit() and len(profile.stories) < MAX_FOLLOWS:
            profile.stories[int(key)] = (label, url_of(kind, key))
        elif kind == Interest.Kind.SEARCH:
            profile.searches.append((key, label))
    if muted_source_slugs:
        profile.muted_sources = set(Source.objects.filter(slug__in=muted_source_slugs).values_list("pk", flat=True))
    if words:
        alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
        profile.muted_words = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    return profile


# --- candidates ----------------------------------------------------------------------------


def _db() -> Any:
    return connections[Article.objects.db]


def _q(name: str) -> str:
    return _db().ops.quote_name(name)


def _when(value: datetime) -> Any:
    return _db().ops.adapt_datetimefield_value(value)


def _marks(values: Sized) -> str:
    return ", ".join(["%s"] * len(values))


def newest_time() -> datetime:
    """When the newest article was published (shared, CACHE_SECONDS): the window ends there
    when the site has been quiet, as the home page's top stories do."""
    found = cache.get("foryou:newest")
    if found is None:
        found = Article.objects.order_by("-published_at").values_list("published_at", flat=True).first()
        found = found or timezone.now()
        cache.set("foryou:newest", found, CACHE_SECONDS)
    return found


def _from_follows(profile: _Profile, since: datetime) -> set[int]:
    """The newest articles of every followed source, hashtag, section and story, in one
    statement: each part an ordered, limited walk of that thing's own index."""
    article, tag_link = _q(Article._meta.db_table), _q(ArticleHashtag._meta.db_table)
    enrichment, member = _q(Enrichment._meta.db_table), _q(StoryMember._meta.db_table)
    when = _when(since)
    parts: list[tuple[str, list]] = []
    for source_id in profile.sources:
        sql = f"SELECT id AS a FROM {article} WHERE source_id = %s AND published_at >= %s ORDER BY published_at DESC"
        parts.append((sql, [source_id, when]))
    for tag_id in profile.hashtags:
        sql = f"SELECT article_id AS a FROM {tag_link} WHERE hashtag_id = %s AND published_at >= %s ORDER BY published_at DESC"
        parts.append((sql, [tag_id, when]))
    for section in profile.sections:
        sql = f"SELECT article_id AS a FROM {enrichment} WHERE section = %s AND published_at >= %s ORDER BY published_at DESC"
        parts.append((sql, [section, when]))
    for story_id in profile.stories:
        sql = f"SELECT article_id AS a FROM {member} WHERE story_id = %s AND joined_at >= %s ORDER BY joined_at DESC"
        parts.append((sql, [story_id, when]))
    if not parts:
        return set()
    selects, params = [], []
    for number, (sql, values) in enumerate(parts):
        selects.append(f"SELECT a FROM ({sql} LIMIT {PER_FOLLOW}) AS f{number}")
        params.extend(values)
    with _db().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        return {row[0] for row in cursor.fetchall()}


def _from_searches(profile: _Profile, since: datetime) -> dict[int, tuple[str, str]]:
    """Article id -> (the saved search's label, its page): the newest matches of the
    newest few saved searches, from the alerts' activity rows (the fan-out matches each
    new article against every followed saved search once), in one statement. Running
    the searches here cost up to seconds for a common word among a million articles."""
    searches = profile.searches[:SEARCHES]
    if not searches:
        return {}
    activity, kind, key_, at = _q(Activity._meta.db_table), _q("kind"), _q("key"), _q("at")
    selects, params = [], []
    for number, (key, _) in enumerate(searches):
        selects.append(
            f"SELECT {number} AS n, article_id FROM (SELECT article_id FROM {activity} WHERE {kind} = %s AND {key_} = %s"
            f" AND {at} >= %s ORDER BY {at} DESC LIMIT {PER_FOLLOW}) AS s{number}"
        )
        params.extend([str(Interest.Kind.SEARCH), key, _when(since)])
    found: dict[int, tuple[str, str]] = {}
    with _db().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        for number, article_id in sorted(cursor.fetchall()):
            key, label = searches[number]
            found.setdefault(article_id, (label, url_of(str(Interest.Kind.SEARCH), key)))
    return found


@dataclass
class _Seed:
    article_id: int
    weight: Weight | None  # None: "less like this"
    title: str = ""
    story_id: int | None = None


def _seeds(user: AbstractBaseUser) -> list[_Seed]:
    """The reader's latest saved, read and nudged articles, in one statement."""
    saved, history, nudge = (_q(m._meta.db_table) for m in (Saved, HistoryEntry, Nudge))
    sql = (
        f"SELECT 0, article_id, 1 FROM (SELECT article_id FROM {saved} WHERE user_id = %s ORDER BY saved_at DESC LIMIT {SEEDS_SAVED}) AS s"
        f" UNION ALL SELECT 1, article_id, 1 FROM (SELECT article_id FROM {history} WHERE user_id = %s ORDER BY opened_at DESC LIMIT {SEEDS_READ}) AS h"
        f" UNION ALL SELECT 2, article_id, CASE WHEN more THEN 1 ELSE 0 END FROM (SELECT article_id, more FROM {nudge} WHERE user_id = %s ORDER BY created_at DESC LIMIT {SEEDS_NUDGED}) AS n"
    )
    with _db().cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    seeds: dict[int, _Seed] = {}
    for part, article_id, more in rows:  # a nudge outranks a save, a save a read
        weight = (LIKE_SAVED, LIKE_READ, MORE_LIKE if more else None)[part]
        if article_id not in seeds or part == 2 or (part == 0 and seeds[article_id].weight is LIKE_READ):
            seeds[article_id] = _Seed(article_id, weight)
    return list(seeds.values())


def _from_seeds(seeds: list[_Seed], since: datetime) -> tuple[dict[int, Reason], dict[int, float], set[int]]:
    """(article id -> its likeness reason, article id -> similarity to a "less" seed,
    stories of "less" seeds)."""
    like: dict[int, Reason] = {}
    less: dict[int, float] = {}
    hidden_stories: set[int] = set()
    if not seeds:
        return like, less, hidden_stories
    by_id = {seed.article_id: seed for seed in seeds}
    article, enrichment, member = (_q(m._meta.db_table) for m in (Article, Enrichment, StoryMember))
    sql = (
        f"SELECT a.id, a.title, e.embedding, m.story_id FROM {article} a"
        f" LEFT OUTER JOIN {enrichment} e ON e.article_id = a.id LEFT OUTER JOIN {member} m ON m.article_id = a.id"
        f" WHERE a.id IN ({_marks(by_id)})"
    )
    with _db().cursor() as cursor:
        cursor.execute(sql, list(by_id))
        rows = cursor.fetchall()
    index = vector_index.reader()
    for article_id, title, blob, story_id in rows:
        seed = by_id[article_id]
        seed.title, seed.story_id = title, story_id
        if seed.weight is None and story_id is not None:
            hidden_stories.add(story_id)
        if index is None or not blob:
            continue
        try:
            near = index.search(from_blob(bytes(blob)), NEIGHBOURS, since=since.timestamp(), exclude=list(by_id))
        except (ValueError, OSError):  # an index of other dimensions, a file being replaced
            continue
        text = url = ""
        for neighbour, similarity in near:
            if similarity < MIN_SIMILARITY:
                continue
            if seed.weight is None:
                less[neighbour] = max(less.get(neighbour, 0.0), similarity)
                continue
            points = seed.weight.value * similarity
            if neighbour not in like or like[neighbour].points < points:
                if not url:  # once per seed: a reverse() per neighbour added up
                    text, url = _like_text(seed.weight, title), Article(pk=article_id).get_absolute_url()
                like[neighbour] = Reason(seed.weight, points, text, url)
    return like, less, hidden_stories


def _like_text(weight: Weight, title: str) -> str:
    short = title if len(title) <= 70 else title[:69].rsplit(" ", 1)[0] + "…"
    if weight is MORE_LIKE:
        return f"More like “{short}”, as you asked"
    if weight is LIKE_SAVED:
        return f"Like “{short}”, which you saved"
    return f"Like “{short}”, which you read"


def top_stories() -> list[tuple[int, int, int | None]]:
    """(story id, publishers, representative article id) of the day's top stories, shared
    between readers for CACHE_SECONDS."""
    found = cache.get("foryou:top")
    if found is None:
        from newsdesk.stories.pages import top_stories as ranked

        found = [(s.pk, s.publisher_count, s.representative_id) for s in ranked(TOP_STORIES)]
        cache.set("foryou:top", found, CACHE_SECONDS)
    return found


def _top_members(top: list[tuple[int, int, int | None]]) -> list[int]:
    """The newest few articles of each top story, shared between readers as the top
    stories are (a statement of one branch per story was a tenth of the page's database
    time on PostgreSQL, the same for every reader)."""
    key = "foryou:top-members:" + ",".join(str(story_id) for story_id, _, _ in top)
    found = cache.get(key)
    if found is None:
        member = _q(StoryMember._meta.db_table)
        selects = [
            f"SELECT article_id FROM (SELECT article_id FROM {member} WHERE story_id = %s"
            f" ORDER BY joined_at DESC LIMIT {TOP_MEMBERS}) AS t{number}"
            for number in range(len(top))
        ]
        with _db().cursor() as cursor:
            cursor.execute(" UNION ALL ".join(selects), [story_id for story_id, _, _ in top])
            found = [row[0] for row in cursor.fetchall()]
        cache.set(key, found, CACHE_SECONDS)
    return found


def _from_top(top: list[tuple[int, int, int | None]], profile: _Profile) -> set[int]:
    """Articles of the top stories: the representative, the newest few, and those of
    followed sources (so that the story's best article can be the reader's publisher's)."""
    if not top:
        return set()
    ids = {rep for _, _, rep in top if rep}
    ids.update(_top_members(top))
    if profile.sources:
        member, article = _q(StoryMember._meta.db_table), _q(Article._meta.db_table)
        story_ids, sources = [story_id for story_id, _, _ in top], list(profile.sources)
        # CROSS JOIN: SQLite then keeps the written order (the few members of the top
        # stories, each probing its article by key); without statistics it otherwise walks
        # every article of the followed publishers (122 ms against 0.1 ms at 1M articles).
        # PostgreSQL plans it as the inner join it is.
        with _db().cursor() as cursor:
            cursor.execute(
                f"SELECT m.article_id FROM {member} m CROSS JOIN {article} a"
                f" WHERE a.id = m.article_id AND m.story_id IN ({_marks(story_ids)}) AND a.source_id IN ({_marks(sources)})"
                f" LIMIT 100",
                story_ids + sources,
            )
            ids.update(row[0] for row in cursor.fetchall())
    return ids


# --- what each candidate is ----------------------------------------------------------------


@dataclass
class _Meta:
    source_id: int
    published_at: datetime
    title: str
    description: str
    story_id: int | None
    section: str
    tags: set[int] = field(default_factory=set)


def _meta(ids: set[int], tag_ids: set[int]) -> dict[int, _Meta]:
    article, enrichment, member = (_q(m._meta.db_table) for m in (Article, Enrichment, StoryMember))
    connection = _db()
    published = Article._meta.get_field("published_at")
    converters = connection.ops.get_db_converters(published.get_col(Article._meta.db_table))
    sql = (
        f"SELECT a.id, a.source_id, a.published_at, a.title, a.description, m.story_id, e.section FROM {article} a"
        f" LEFT OUTER JOIN {member} m ON m.article_id = a.id LEFT OUTER JOIN {enrichment} e ON e.article_id = a.id"
        f" WHERE a.id IN ({_marks(ids)})"
    )
    found: dict[int, _Meta] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        for pk, source_id, when, title, description, story_id, section in cursor.fetchall():
            for convert in converters:
                when = convert(when, published, connection)
            found[pk] = _Meta(source_id, when, title, description, story_id, section or "")
        if tag_ids and found:
            tag_link = _q(ArticleHashtag._meta.db_table)
            cursor.execute(
                f"SELECT article_id, hashtag_id FROM {tag_link} WHERE article_id IN ({_marks(found)})"
                f" AND hashtag_id IN ({_marks(tag_ids)})",
                [*found, *tag_ids],
            )
            for article_id, hashtag_id in cursor.fetchall():
                found[article_id].tags.add(hashtag_id)
    return found


def _read(user: AbstractBaseUser, metas: dict[int, _Meta], profile: _Profile) -> set[int]:
    """Which candidates the reader has read (state.py's rule: a read mark, or under a
    followed source's watermark and not kept unread)."""
    marks = dict(ReadMark.objects.filter(user=user, article_id__in=list(metas)).values_list("article_id", "is_read"))
    read = set()
    for pk, meta in metas.items():
        mark = marks.get(pk)
        if mark is True:
            read.add(pk)
        elif (
            mark is None and meta.source_id in profile.sources and meta.published_at <= profile.sources[meta.source_id]
        ):
            read.add(pk)
    return read


# --- the page ------------------------------------------------------------------------------


def for_you(user: AbstractBaseUser, *, limit: int = PAGE) -> ForYou:
    profile = _profile(user)
    end = min(timezone.now(), newest_time())
    since = end - WINDOW
    ids = _from_follows(profile, since)
    by_search = _from_searches(profile, since)
    ids.update(by_search)
    seeds = _seeds(user)
    like, less, hidden_stories = _from_seeds(seeds, since)
    ids.update(like)
    top = top_stories()
    ids.update(_from_top(top, profile))
    ids -= {seed.article_id for seed in seeds if seed.weight is None}
    if not ids:
        return ForYou([], since, profile.follow_count, 0)
    metas = _meta(ids, set(profile.hashtags) | profile.muted_tags)
    stories = _stories({m.story_id for m in metas.values() if m.story_id is not None})
    top_publishers = {story_id: publishers for story_id, publishers, _ in top}
    read = _read(user, metas, profile)

    groups: dict[object, list[int]] = defaultdict(list)
    for pk, meta in metas.items():
        story = stories.get(meta.story_id) if meta.story_id is not None else None
        if _muted(profile, meta, story) or (meta.story_id in hidden_stories):
            continue
        groups[meta.story_id if story is not None else ("article", pk)].append(pk)

    entries = []
    for group, members in groups.items():
        story = stories.get(group) if isinstance(group, int) else None
        entries.append(_entry(profile, metas, members, story, top_publishers, by_search, like, less, read, end))
    entries.sort(key=lambda e: (-e[0], -metas[e[1]].published_at.timestamp()))
    chosen = _diverse(entries, metas, limit)
    articles = (
        Article.objects.select_related("source", "image")
        .defer("body_html", "body_text")
        .in_bulk([e[1] for e in chosen])
    )
    shown = []
    for score, pk, parts, story in chosen:
        if pk not in articles:
            continue
        item = articles[pk]
        reasons = [_describe(part, item, story, profile) for part in parts]
        shown.append(
            Entry(
                article=item,
                score=round(score, 2),
                reasons=[r for r in sorted(reasons, key=lambda r: -r.points) if r.weight in SHOWN],
                parts=reasons,
                story_id=story.pk if story else None,
                story_title=story.title if story else "",
                more_sources=max(0, story.publisher_count - 1) if story else 0,
                read=pk in read,
            )
        )
    said = nudges.current(user, [entry.article.pk for entry in shown])
    for entry in shown:
        entry.nudged = said.get(entry.article.pk)
    return ForYou(shown, since, profile.follow_count, len(ids))


@dataclass
class _Story:
    pk: int
    title: str
    publisher_count: int
    hashtags: list[str]


def _stories(ids: set[int]) -> dict[int, _Story]:
    """The shown stories (two articles or more, not merged away) among these, as plain rows."""
    if not ids:
        return {}
    rows = Story.objects.filter(pk__in=ids, article_count__gte=2, merged_into__isnull=True).values_list(
        "pk", "title", "publisher_count", "hashtags"
    )
    return {pk: _Story(pk, title, publishers, hashtags or []) for pk, title, publishers, hashtags in rows}


def _muted(profile: _Profile, meta: _Meta, story: _Story | None) -> bool:
    if meta.source_id in profile.muted_sources or (meta.section and meta.section in profile.muted_sections):
        return True
    if meta.tags & profile.muted_tags:
        return True
    if story is not None and profile.muted_tag_slugs and set(story.hashtags) & profile.muted_tag_slugs:
        return True
    if profile.muted_words is not None:
        text = f"{meta.title}\n{meta.description}\n{story.title if story is not None else ''}"
        if profile.muted_words.search(text):
            return True
    return False


def _article_reasons(
    profile: _Profile, pk: int, meta: _Meta, by_search: dict[int, tuple[str, str]], like: dict[int, Reason]
) -> list[Reason]:
    found = []
    if meta.source_id in profile.sources:
        found.append(Reason(FOLLOWED_SOURCE, FOLLOWED_SOURCE.value, str(meta.source_id)))
    for tag_id in sorted(meta.tags & set(profile.hashtags)):
        found.append(Reason(FOLLOWED_HASHTAG, FOLLOWED_HASHTAG.value, *profile.hashtags[tag_id]))
    if meta.section in profile.sections:
        found.append(Reason(FOLLOWED_SECTION, FOLLOWED_SECTION.value, *profile.sections[meta.section]))
    if pk in by_search:
        found.append(Reason(SAVED_SEARCH, SAVED_SEARCH.value, *by_search[pk]))
    if pk in like:
        found.append(like[pk])
    return found


def _entry(
    profile: _Profile,
    metas: dict[int, _Meta],
    members: list[int],
    story: _Story | None,
    top_publishers: dict[int, int],
    by_search: dict[int, tuple[str, str]],
    like: dict[int, Reason],
    less: dict[int, float],
    read: set[int],
    end: datetime,
) -> tuple[float, int, list[Reason], _Story | None]:
    """(score, best article id, the score's terms, story) of one story's entry."""
    reasons: dict[Weight, Reason] = {}  # across the story's articles, each kind once
    best_pk, best_key = members[0], None
    for pk in members:
        meta = metas[pk]
        own = _article_reasons(profile, pk, meta, by_search, like)
        for reason in own:
            if reason.weight not in reasons or reasons[reason.weight].points < reason.points:
                reasons[reason.weight] = reason
        # The reader's best article of the story: their publisher, unread, fresh.
        key = (meta.source_id in profile.sources, pk not in read, pk not in less, meta.published_at, pk)
        if best_key is None or key > best_key:
            best_pk, best_key = pk, key
    meta = metas[best_pk]
    terms = list(reasons.values())
    if story is not None:
        if story.pk in profile.stories:
            terms.append(Reason(FOLLOWED_STORY, FOLLOWED_STORY.value, *profile.stories[story.pk]))
        if story.pk in top_publishers:
            terms.append(Reason(TOP_STORY, TOP_STORY.value, str(top_publishers[story.pk])))
        if story.publisher_count > 1:
            terms.append(Reason(COVERAGE, COVERAGE.value * math.log2(story.publisher_count)))
    age_hours = max(0.0, (end - meta.published_at).total_seconds() / 3600)
    terms.append(Reason(FRESHNESS, FRESHNESS.value * 0.5 ** (age_hours / HALF_LIFE_HOURS)))
    if best_pk in read:
        terms.append(Reason(ALREADY_READ, ALREADY_READ.value))
    if best_pk in less:
        terms.append(Reason(LESS_LIKE, LESS_LIKE.value * less[best_pk]))
    return sum(term.points for term in terms), best_pk, terms, story


def _diverse(entries: list, metas: dict[int, _Meta], limit: int) -> list:
    """The best `limit` entries with at most PER_PUBLISHER from one publisher; when that
    leaves the page short, the best of the rest fill it in their order."""
    chosen, waiting = [], []
    per_source: dict[int, int] = defaultdict(int)
    for entry in entries:
        source_id = metas[entry[1]].source_id
        if per_source[source_id] < PER_PUBLISHER:
            per_source[source_id] += 1
            chosen.append(entry)
            if len(chosen) == limit:
                return chosen
        else:
            waiting.append(entry)
    return chosen + waiting[: limit - len(chosen)]


def _describe(reason: Reason, article: Article, story: _Story | None, profile: _Profile) -> Reason:
    """The reason in words, with a link to what it names."""
    weight = reason.weight
    if weight is FOLLOWED_SOURCE:
        return replace(reason, text=f"You follow {article.source.name}", url=url_of("source", article.source.slug))
    if weight is FOLLOWED_HASHTAG:
        return replace(reason, text=f"You follow {reason.text}")
    if weight is FOLLOWED_SECTION:
        return replace(reason, text=f"You follow {reason.text}")
    if weight is FOLLOWED_STORY:
        return replace(reason, text=f"You follow the story “{reason.text}”")
    if weight is SAVED_SEARCH:
        return replace(reason, text=f"Matches your saved search {reason.text}")
    if weight is TOP_STORY:
        count = int(reason.text or 0)
        return replace(reason, text=f"Top story, {count} publisher{'s' if count != 1 else ''}")
    if weight in (COVERAGE, FRESHNESS, ALREADY_READ, LESS_LIKE):
        return replace(reason, text=weight.name.capitalize())
    return reason
