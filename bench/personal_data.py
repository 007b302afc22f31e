"""The data of `newsdesk bench personal`: a news site with its readers, written with bulk
SQL (executemany on SQLite, COPY on PostgreSQL), and the steps run against it.

It runs in a child process whose settings point at the benchmark's database
(`python -m bench.personal_data STEP ...`, see bench/personal.py), so that the
`newsdesk bench` process never opens it.

What is generated, for A articles and R readers (1,000,000 and 100,000 by default):

* publishers (A/2,000, 40-500) publishing with Zipf popularity over A/10,000 days (7-120),
  the newest article last, ids in publication order as an ingest stores them;
* every article enriched (a summary of its own sentences, a section, an embedding near
  its main hashtag's topic) with 3-6 hashtags out of A/50 (500-20,000, Zipf), text from
  the BBC corpus in ../shared when present (else a word list), the full-text index kept
  by the schema's own triggers (SQLite) or generated column (PostgreSQL);
* stories: about 45% of articles in stories of 2 to 40 articles from several
  publishers, each with its multi-source summary;
* readers with about 20 follows each: 8 publishers (with a read watermark), 7 hashtags,
  1-2 sections, 2 recent stories, a saved search for 30% of them, and mutes (a word,
  a publisher, a hashtag) for some; 200 opened articles each (a read mark and a history
  entry), 3 saved, "more/less like this" for 30%; a briefing email at their hour in one
  of six time zones; and the related-articles vector index of the kept weeks.

Indexes (and on PostgreSQL foreign keys) of the big tables are dropped for the load and
built once afterwards, from their own definitions in the database.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlencode

INFO_FILE = "bench-personal.json"
GENERATOR_VERSION = 1
READER = "reader{}"
PASSWORD = "bench-personal-password-4Kw"  # reader0's, for the real login form; a throw-away database
TIME_ZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
READS = 200
SAVED = 3
FOLLOWED_SOURCES, FOLLOWED_TAGS, FOLLOWED_STORIES = 8, 7, 2
SEARCH_SHARE, NUDGE_SHARE = 0.3, 0.3
READ_DAYS = 14  # what readers opened: the last two weeks
CHUNK = 20_000


def shape(articles: int, readers: int) -> dict:
    """The generated site's proportions for A articles and R readers."""
    return {
        "articles": articles,
        "readers": readers,
        "days": min(120, max(7, round(articles / 10_000))),
        "sources": min(500, max(40, articles // 2000)),
        "hashtags": min(20_000, max(500, articles // 50)),
        "searches": min(500, max(20, readers // 200)),
        # The newest articles, which the fan-out measurement matches against follows.
        "fresh": min(articles // 5, max(1000, articles // 50)),
    }


# --- writing rows fast ---------------------------------------------------------------------


class Loader:
    """Bulk inserts of plain tuples: executemany on SQLite, COPY on PostgreSQL. Columns not
    given take the model field's default, adapted once per table."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        connection.ensure_connection()
        if self.vendor == "sqlite":
            # Rows go in before the rows they point to (members before their story):
            # foreign keys are checked once, at the end (_finish).
            with connection.cursor() as cursor:
                for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY"):
                    cursor.execute(f"PRAGMA {pragma}")

    def ts(self, epoch: float) -> str:
        """A stored time as the database's text: Django's SQLite format (naive UTC), or
        ISO with its offset for COPY."""
        text = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return text if self.vendor == "sqlite" else text + "+00"

    def json(self, value: object) -> str:
        return json.dumps(value, separators=(",", ":"))

    def insert(self, model, columns: list[str], rows: Iterable[tuple]) -> int:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [
            f
            for f in model._meta.concrete_fields
            if f.attname not in columns and not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        defaults = tuple(f.get_db_prep_save(f.get_default(), self.connection) for f in rest)
        names = [fields[c].column for c in columns] + [f.column for f in rest]
        quoted = ", ".join(self.connection.ops.quote_name(n) for n in names)
        table = self.connection.ops.quote_name(model._meta.db_table)
        count = 0

        def full() -> Iterator[tuple]:
            nonlocal count
            for row in rows:
                count += 1
                yield row + defaults

        if self.vendor == "sqlite":
            from django.db import transaction

            marks = ", ".join(["%s"] * len(names))
            iterator = full()
            while True:
                block = [row for _, row in zip(range(CHUNK * 5), iterator)]
                if not block:
                    break
                with transaction.atomic(), self.connection.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", block)
        else:
            raw = self.connection.connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in full():
                    copy.write_row(row)
        return count

    @contextmanager
    def unindexed(self, models: list) -> Iterator[None]:
        """Drop the tables' own indexes (not the ones behind a primary key or unique
        constraint) and, on PostgreSQL, their foreign keys; build them again afterwards."""
        tables = [m._meta.db_table for m in models]
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                marks = ", ".join(["%s"] * len(tables))
                cursor.execute(
                    f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
                    tables,
                )
                indexes, keys = cursor.fetchall(), []
                for name, _ in indexes:
                    cursor.execute(f'DROP INDEX "{name}"')
            else:
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                    " JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(%s)"
                    " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                    [tables],
                )
                indexes = cursor.fetchall()
                cursor.execute(
                    "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
                    [tables],
                )
                keys = cursor.fetchall()
                for name, table, _ in keys:
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                for name, _ in indexes:
                    cursor.execute(f"DROP INDEX {name}")
        yield
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SET maintenance_work_mem = '1GB'")
            for _, sql in indexes:
                cursor.execute(sql)
            for name, table, definition in keys:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        print(f"  rebuilt {len(indexes)} indexes, {len(keys)} foreign keys in {time.perf_counter() - started:.0f} s")


def _zipf(n: int, offset: float) -> list[float]:
    return [1.0 / (rank + offset) for rank in range(n)]


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# --- the site -----------------------------------------------------------------------------------


class Site:
    """What the reader generation needs to know about the articles, in memory."""

    def __init__(self) -> None:
        self.source_of: list[int] = [0]  # by article id (index 0 unused)
        self.published: list[float] = [0.0]
        self.story_of: list[int] = [0]
        self.recent_by_source: dict[int, list[int]] = defaultdict(list)
        self.recent_by_tag: dict[int, list[int]] = defaultdict(list)
        self.recent: list[int] = []
        self.stories: dict[int, dict] = {}  # id -> {"members", "sources", "first", "last", "tags"}


def generate(articles: int, readers: int, seed: int, corpus: Path) -> dict:
    """Generate the site into the (migrated, empty) database; the info the runs read."""
    from bench.web import Texts
    from newsdesk.articles.models import Article, ArticleHashtag, Enrichment
    from newsdesk.reader.models import Follow, HistoryEntry, Interest, ReadMark, Saved
    from newsdesk.stories.models import StoryMember

    started = time.perf_counter()
    sizes = shape(articles, readers)
    rng = random.Random(seed)
    texts = Texts(corpus, rng)
    loader = Loader()
    now = time.time()
    print(
        f"generating {articles:,} articles over {sizes['days']} days from {sizes['sources']} publishers,"
        f" {sizes['hashtags']:,} hashtags, {readers:,} readers ({loader.vendor}; text from {texts.origin})",
        flush=True,
    )
    sources = _sources(loader, sizes["sources"], rng)
    tags = _hashtags(loader, texts, sizes["hashtags"], rng)
    site = Site()
    with loader.unindexed([Article, Enrichment, ArticleHashtag, StoryMember]):
        _articles(loader, site, texts, sources, tags, sizes, rng, now)
        _stories(loader, site, tags, rng)
    print(f"articles and stories in {time.perf_counter() - started:.0f} s", flush=True)
    mark = time.perf_counter()
    with loader.unindexed([Follow, Interest, ReadMark, HistoryEntry, Saved]):
        reader_counts = _readers(loader, site, texts, sources, tags, sizes, rng, now)
    print(f"readers in {time.perf_counter() - mark:.0f} s", flush=True)
    mark = time.perf_counter()
    _finish(loader, tags)
    vectors = _vector_index()
    print(f"counts, statistics and {vectors} in {time.perf_counter() - mark:.0f} s", flush=True)
    elapsed = time.perf_counter() - started
    return {
        **sizes,
        "seed": seed,
        "version": GENERATOR_VERSION,
        "first_fresh_id": articles - sizes["fresh"] + 1,
        "generated_at": now,
        "generate_s": round(elapsed),
        "text": texts.origin,
        "vectors": vectors,
        **reader_counts,
    }


def _sources(loader: Loader, count: int, rng: random.Random) -> list[tuple[int, str, str]]:
    from bench.web import COUNTRIES, NOUN, PAPER
    from newsdesk.sources.models import Source

    rows = []
    for n in range(1, count + 1):
        name = f"The {rng.choice(PAPER)} {rng.choice(NOUN)} {n}"
        rows.append((n, name, f"source-{n}", f"https://source-{n}.example/", rng.choice(COUNTRIES), "en", "news"))
    loader.insert(Source, ["id", "name", "slug", "home_url", "country", "language", "kind"], rows)
    return [(n, slug, country) for n, _, slug, _, country, _, _ in rows]


def _hashtags(loader: Loader, texts, count: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """(id, slug, name): the corpus's names first, then pairs of them."""
    from bench.web import _slugify
    from newsdesk.articles.models import Hashtag

    names = list(dict.fromkeys(n for section in texts.sections for n in texts.names[section]))
    rng.shuffle(names)
    found: dict[str, str] = {}
    for name in names:
        found.setdefault(_slugify(name), name)
        if len(found) >= count:
            break
    while len(found) < count:
        name = f"{rng.choice(names)} {rng.choice(names).split()[-1]}"
        found.setdefault(_slugify(name), name)
    kinds = ["person", "place", "organization", "topic"]
    rows = [(i, slug, name, rng.choice(kinds)) for i, (slug, name) in enumerate(found.items(), 1)]
    loader.insert(Hashtag, ["id", "slug", "name", "kind"], rows)
    return [(i, slug, name) for i, slug, name, _ in rows]


def _articles(
    loader: Loader, site: Site, texts, sources: list, tags: list, sizes: dict, rng: random.Random, now: float
):
    import numpy as np

    from bench.web import FIRST, LAST, _slugify
    from newsdesk.ai.sections import SECTIONS
    from newsdesk.articles.models import Article, ArticleHashtag, Enrichment
    from newsdesk.stories.models import StoryMember

    count, days = sizes["articles"], sizes["days"]
    nrng = np.random.default_rng(rng.randrange(2**32))
    source_weights = _cumulative(_zipf(len(sources), 5))
    tag_weights = _cumulative(_zipf(len(tags), 10))
    centres = nrng.standard_normal((512, 384)).astype(np.float32)
    pools = [s for s in texts.sections]
    span = days * 86400.0
    # Publication times: evenly over the span with jitter, oldest first, the last one now.
    times = np.sort(now - span * (1 - np.linspace(0, 1, count)) - nrng.uniform(0, span / count * 4, count))
    times[-1] = now
    recent_since = now - READ_DAYS * 86400
    open_stories: list[int] = []
    next_story = 1
    story_rows: dict[int, dict] = site.stories
    article_cols = [
        "id",
        "source_id",
        "url",
        "title",
        "byline",
        "description",
        "body_text",
        "body_html",
        "language",
        "word_count",
        "reading_time",
        "origin",
        "content_hash",
        "published_at",
        "created_at",
        "updated_at",
    ]
    enrichment_cols = [
        "article_id",
        "summary",
        "summary_sentences",
        "key_points",
        "section",
        "section_confidence",
        "embedding",
        "model",
        "enriched_at",
        "published_at",
    ]
    link_cols = ["article_id", "hashtag_id", "score", "mentions", "position", "published_at"]
    member_cols = ["article_id", "story_id", "similarity", "joined_at"]
    started = time.perf_counter()
    for start in range(1, count + 1, CHUNK):
        stop = min(count + 1, start + CHUNK)
        arts, enrich, links, members = [], [], [], []
        noise = (nrng.standard_normal((stop - start, 384)) * 0.55).astype(np.float32)
        for pk in range(start, stop):
            published = float(times[pk - 1])
            when = loader.ts(published)
            source_id, source_slug, _ = sources[rng.choices(range(len(sources)), cum_weights=source_weights)[0]]
            # Stories: about 45% of articles join one; open stories take more the larger they are.
            story = 0
            while open_stories and published - story_rows[open_stories[0]]["first"] > 36 * 3600:
                open_stories.pop(0)
            roll = rng.random()
            if roll < 0.12 or (roll < 0.45 and not open_stories):
                story = next_story
                next_story += 1
                primary = rng.choices(range(len(tags)), cum_weights=tag_weights)[0]
                story_rows[story] = {
                    "members": [],
                    "sources": set(),
                    "countries": set(),
                    "first": published,
                    "last": published,
                    "tag": primary,
                    "pool": rng.choice(pools),
                    "title": "",
                }
                open_stories.append(story)
            elif roll < 0.45:
                weights = [len(story_rows[s]["members"]) + 1 for s in open_stories]
                story = rng.choices(open_stories, weights)[0]
                if len(story_rows[story]["members"]) >= 39:
                    open_stories.remove(story)
            if story:
                info = story_rows[story]
                primary, pool_name = info["tag"], info["pool"]
                info["members"].append(pk)
                info["sources"].add(source_id)
                info["countries"].add(sources[source_id - 1][2])
                info["last"] = published
            else:
                primary = rng.choices(range(len(tags)), cum_weights=tag_weights)[0]
                pool_name = rng.choice(pools)
            chosen = [primary, *rng.choices(range(len(tags)), cum_weights=tag_weights, k=rng.randint(2, 5))]
            chosen = list(dict.fromkeys(chosen))
            pool = texts.sentences[pool_name]
            sentences = rng.sample(pool, rng.randint(6, 10))
            body = " ".join(sentences)
            title = rng.choice(texts.headlines[pool_name])
            if story and not story_rows[story]["title"]:
                story_rows[story]["title"] = title
            words = len(body.split())
            arts.append(
                (
                    pk,
                    source_id,
                    f"https://{source_slug}.example/news/{_slugify(title)[:50]}-{pk}",
                    title,
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.6 else "",
                    sentences[0],
                    body,
                    "".join(f"<p>{escape(s)}</p>" for s in sentences),
                    "en",
                    words,
                    max(1, math.ceil(words / 230)),
                    "page",
                    f"{pk:040x}",
                    when,
                    when,
                    when,
                )
            )
            summary_idx = [0, rng.randint(1, len(sentences) - 1)]
            vector = centres[tags[primary][0] % len(centres)] + noise[pk - start]
            vector /= np.linalg.norm(vector)
            enrich.append(
                (
                    pk,
                    " ".join(sentences[i] for i in summary_idx),
                    loader.json(summary_idx),
                    loader.json([{"text": sentences[i], "sentences": [i]} for i in summary_idx]),
                    SECTIONS[(tags[primary][0] + pk % 3) % len(SECTIONS)] if pk % 5 else rng.choice(SECTIONS),
                    round(rng.uniform(0.3, 0.95), 3),
                    vector.astype(np.float16).tobytes(),
                    "all-MiniLM-L6-v2",
                    when,
                    when,
                )
            )
            for position, index in enumerate(chosen):
                links.append((pk, tags[index][0], round(1 / (position + 1), 3), rng.randint(1, 5), position, when))
            if story:
                members.append((pk, story, 0.8, when))
            site.source_of.append(source_id)
            site.published.append(published)
            site.story_of.append(story)
            if published >= recent_since:
                site.recent.append(pk)
                site.recent_by_source[source_id].append(pk)
                for index in chosen[:3]:
                    site.recent_by_tag[tags[index][0]].append(pk)
        loader.insert(Article, article_cols, arts)
        loader.insert(Enrichment, enrichment_cols, enrich)
        loader.insert(ArticleHashtag, link_cols, links)
        loader.insert(StoryMember, member_cols, members)
        done = stop - 1
        if done % 100_000 < CHUNK or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>9,} articles ({rate:,.0f}/s)", flush=True)


def _stories(loader: Loader, site: Site, tags: list, rng: random.Random) -> None:
    """Story rows for the groups made while writing articles; a group left with one
    article is no story (its membership is dropped)."""
    from django.db import connection

    from newsdesk.stories.models import Story, StoryMember

    single = [s for s, info in site.stories.items() if len(info["members"]) < 2]
    if single:
        table = connection.ops.quote_name(StoryMember._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(single), 500):
                part = single[start : start + 500]
                cursor.execute(f"DELETE FROM {table} WHERE story_id IN ({', '.join(['%s'] * len(part))})", part)
    for story in single:
        for pk in site.stories[story]["members"]:
            site.story_of[pk] = 0
        del site.stories[story]
    rows = []
    for pk, info in site.stories.items():
        first = info["members"][0]
        # The multi-source summary: the first sentence of up to three members from
        # different publishers (their enrichment's sentence 0 is their description).
        seen, summary = set(), []
        for member in info["members"]:
            if site.source_of[member] not in seen and len(summary) < 3:
                seen.add(site.source_of[member])
                summary.append(member)
        rows.append(
            (
                pk,
                info["title"],
                first,
                loader.ts(info["first"]),
                loader.ts(info["last"]),
                len(info["members"]),
                len(info["sources"]),
                len(info["countries"]),
                loader.json([tags[info["tag"]][1]]),
                loader.json(summary),  # article ids for now
                loader.ts(info["first"]),
                loader.ts(info["last"]),
            )
        )
    columns = [
        "id",
        "title",
        "representative_id",
        "first_seen",
        "last_seen",
        "article_count",
        "publisher_count",
        "country_count",
        "hashtags",
        "summary",
        "created_at",
        "updated_at",
    ]
    loader.insert(Story, columns, rows)
    # Summaries: each cited article's first sentence (its description), read back.
    q = connection.ops.quote_name
    story, article = q("stories_story"), q("articles_article")
    from django.db import transaction

    ids = list(site.stories)
    for start in range(0, len(ids), 2000):
        part = ids[start : start + 2000]
        wanted = {m for s in part for m in _summary_members(site, s)}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT a.id, a.description FROM {article} a WHERE a.id IN ({', '.join(['%s'] * len(wanted))})",
                list(wanted),
            )
            text = dict(cursor.fetchall())
        updates = [(loader.json([{"text": text[m], "article": m} for m in _summary_members(site, s)]), s) for s in part]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {story} SET summary = %s WHERE id = %s", updates)
    print(f"  {len(rows):,} stories of 2 or more articles", flush=True)


def _summary_members(site: Site, story: int) -> list[int]:
    seen, found = set(), []
    for member in site.stories[story]["members"]:
        if site.source_of[member] not in seen and len(found) < 3:
            seen.add(site.source_of[member])
            found.append(member)
    return found


def _search_keys(texts, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(key, label) of saved searches: a headline word, some with a section."""
    import re

    from newsdesk.ai.sections import SECTIONS

    stop = {"about", "after", "again", "their", "there", "which", "would", "could", "should", "being", "where"}
    words: dict[str, int] = defaultdict(int)
    for section in texts.sections:
        for headline in texts.headlines[section]:
            for word in re.findall(r"[a-z]{5,}", headline.lower()):
                if word not in stop:
                    words[word] += 1
    ranked = sorted(words, key=lambda w: (-words[w], w))[: count * 2]
    found = []
    for word in ranked[:count]:
        params = {"q": word}
        if rng.random() < 0.25:
            params["section"] = rng.choice(SECTIONS)
        found.append((urlencode(sorted(params.items())), f"“{word}”"))
    return found


def _readers(
    loader: Loader, site: Site, texts, sources: list, tags: list, sizes: dict, rng: random.Random, now: float
) -> dict:
    from django.contrib.auth.hashers import make_password

    from newsdesk.ai.sections import SECTIONS
    from newsdesk.reader.briefings.models import BriefingSettings
    from newsdesk.reader.models import Follow, HistoryEntry, Interest, Nudge, ReadMark, Saved, Visit

    count = sizes["readers"]
    source_weights = _cumulative(_zipf(len(sources), 5))
    tag_weights = _cumulative(_zipf(len(tags), 10))
    searches = _search_keys(texts, sizes["searches"], rng)
    search_weights = _cumulative(_zipf(len(searches), 3))
    mute_words = ["football", "celebrity", "weather", "markets", "election", "royal", "transfer", "strike"]
    # Stories a reader may follow: seen in the last three days, larger ones more likely.
    latest = max(site.published)
    followable = [s for s, info in site.stories.items() if info["last"] >= latest - 3 * 86400] or list(site.stories)
    story_weights = _cumulative([len(site.stories[s]["members"]) for s in followable])
    recent = site.recent
    users = []
    password = make_password(PASSWORD)
    joined = loader.ts(now - 90 * 86400)
    for n in range(count):
        users.append((n + 1, READER.format(n), f"reader{n}@bench.invalid", password if n == 0 else "!", joined))
    # Django's user model: whatever it is, these columns are its own.
    from django.contrib.auth import get_user_model

    loader.insert(get_user_model(), ["id", "username", "email", "password", "date_joined"], users)
    zones = [TIME_ZONES[n % len(TIME_ZONES)] for n in range(count)]
    loader.insert(
        BriefingSettings,
        ["user_id", "briefing_email", "briefing_hour", "time_zone", "alerts_interval"],
        ((n + 1, True, 7, zones[n], "off") for n in range(count)),
    )
    loader.insert(
        Visit,
        ["user_id", "last_at", "since"],
        ((n + 1, loader.ts(now - 3600), loader.ts(now - 86400)) for n in range(count)),
    )
    totals: dict[str, int] = defaultdict(int)

    def interests_of(user: int, followed: list[int], story_pick: list[int], tag_pick: list[int]) -> Iterator[tuple]:
        created = loader.ts(now - rng.uniform(5, 60) * 86400)
        for index in tag_pick:
            _, slug, name = tags[index]
            yield (user, "hashtag", slug, f"#{name}"[:200], False, created, loader.ts(now - rng.uniform(1, 72) * 3600))
        for section in rng.sample(SECTIONS, 1 if rng.random() < 0.6 else 2):
            yield (
                user,
                "section",
                section,
                section.capitalize(),
                False,
                created,
                loader.ts(now - rng.uniform(1, 72) * 3600),
            )
        for story in story_pick:
            title = site.stories[story]["title"][:200]
            yield (user, "story", str(story), title, False, created, loader.ts(now - rng.uniform(1, 48) * 3600))
        if rng.random() < SEARCH_SHARE:
            key, label = searches[rng.choices(range(len(searches)), cum_weights=search_weights)[0]]
            yield (user, "search", key, label, False, created, loader.ts(now - rng.uniform(1, 72) * 3600))
        if rng.random() < 0.2:
            yield (user, "word", rng.choice(mute_words), "", True, created, created)
        if rng.random() < 0.15:
            others = [s for s in range(1, len(sources) + 1) if s not in followed][:50]
            if others:
                yield (user, "source", sources[rng.choice(others) - 1][1], "", True, created, created)
        if rng.random() < 0.1:
            index = rng.choices(range(len(tags)), cum_weights=tag_weights)[0]
            if index not in tag_pick:
                yield (user, "hashtag", tags[index][1], f"#{tags[index][2]}"[:200], True, created, created)

    started = time.perf_counter()
    block = 2000
    for start in range(0, count, block):
        follows, interests, marks, history, saved, nudges = [], [], [], [], [], []
        for n in range(start, min(count, start + block)):
            user = n + 1
            followed = list(
                dict.fromkeys(
                    rng.choices(range(1, len(sources) + 1), cum_weights=source_weights, k=FOLLOWED_SOURCES + 4)
                )
            )[:FOLLOWED_SOURCES]
            for source in followed:
                follows.append(
                    (user, source, "", loader.ts(now - rng.uniform(2 / 24, 7) * 86400), loader.ts(now - 60 * 86400))
                )
            tag_pick = list(dict.fromkeys(rng.choices(range(len(tags)), cum_weights=tag_weights, k=FOLLOWED_TAGS + 4)))[
                :FOLLOWED_TAGS
            ]
            story_pick = list(dict.fromkeys(rng.choices(followable, cum_weights=story_weights, k=FOLLOWED_STORIES)))
            interests.extend(interests_of(user, followed, story_pick, tag_pick))
            # What they opened: half from their publishers, a quarter from their hashtags,
            # a quarter from anywhere, in the last two weeks.
            picked: set[int] = set()
            pools = [site.recent_by_source[s] for s in followed if site.recent_by_source[s]]
            tag_pools = [site.recent_by_tag[tags[i][0]] for i in tag_pick if site.recent_by_tag[tags[i][0]]]
            tries = 0
            while len(picked) < READS and tries < READS * 4:
                tries += 1
                roll = rng.random()
                if roll < 0.5 and pools:
                    pool = rng.choice(pools)
                elif roll < 0.75 and tag_pools:
                    pool = rng.choice(tag_pools)
                else:
                    pool = recent
                picked.add(pool[rng.randrange(len(pool))])
            opened = sorted(picked)
            times = {}
            for pk in opened:
                at = site.published[pk] + rng.uniform(0, min(2 * 86400, now - site.published[pk]))
                times[pk] = at
                when = loader.ts(at)
                marks.append((user, pk, rng.random() > 0.01, when))
                history.append((user, pk, when))
            for pk in sorted(opened, key=times.__getitem__)[-SAVED:]:
                saved.append((user, pk, "", loader.ts(times[pk] + 60)))
            if rng.random() < NUDGE_SHARE:
                fresh = [pk for pk in opened if site.published[pk] > latest - 3 * 86400] or opened
                for k, pk in enumerate(rng.sample(fresh, min(3, len(fresh)))):
                    nudges.append((user, pk, k < 2, loader.ts(times[pk] + 120)))
        totals["follows"] += loader.insert(
            Follow, ["user_id", "source_id", "category", "read_before", "created_at"], follows
        )
        totals["interests"] += loader.insert(
            Interest, ["user_id", "kind", "key", "label", "muted", "created_at", "seen_at"], interests
        )
        totals["read_marks"] += loader.insert(ReadMark, ["user_id", "article_id", "is_read", "changed_at"], marks)
        totals["history"] += loader.insert(HistoryEntry, ["user_id", "article_id", "opened_at"], history)
        totals["saved"] += loader.insert(Saved, ["user_id", "article_id", "note", "saved_at"], saved)
        totals["nudges"] += loader.insert(Nudge, ["user_id", "article_id", "more", "created_at"], nudges)
        done = min(count, start + block)
        if done % 20_000 < block or done == count:
            print(f"  {done:>9,} readers ({done / (time.perf_counter() - started):,.0f}/s)", flush=True)
    print(
        f"  {totals['follows']:,} followed publishers, {totals['interests']:,} other follows and mutes,"
        f" {totals['read_marks']:,} read marks, {totals['history']:,} history entries",
        flush=True,
    )
    return {f"{key}_rows": value for key, value in totals.items()}


def _finish(loader: Loader, tags: list) -> None:
    """Hashtag counts, sequences (PostgreSQL) and the planner's statistics (PostgreSQL:
    what autovacuum would gather; SQLite: none, as a site's own database has none)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_hashtag SET article_count = (SELECT COUNT(*) FROM articles_articlehashtag l"
            " WHERE l.hashtag_id = articles_hashtag.id)"
        )
        if loader.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'id' AND (is_identity = 'YES' OR column_default LIKE 'nextval%%')"
            )
            for (table,) in cursor.fetchall():
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(1, (SELECT COALESCE(MAX(id), 0) FROM \"{table}\")))"
                )
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA foreign_key_check")
            if broken := cursor.fetchmany(5):
                raise RuntimeError(f"generated rows point at rows that do not exist: {broken}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _vector_index() -> str:
    from newsdesk.stories import index

    started = time.perf_counter()
    count = index.rebuild()
    return f"a vector index of {count:,} articles ({time.perf_counter() - started:.0f} s)"


# --- steps of a run ------------------------------------------------------------------------------


def prepare(articles: int, readers: int, seed: int, corpus: Path, out: Path) -> None:
    """As `newsdesk up` prepares a data directory, then the site (once per database)."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    info_file = Path(settings.DATA_DIR) / INFO_FILE
    if info_file.exists():
        info = json.loads(info_file.read_text())
        if (info.get("articles"), info.get("readers"), info.get("version")) != (articles, readers, GENERATOR_VERSION):
            raise SystemExit(
                f"{settings.DATA_DIR} holds a site of {info.get('articles')} articles and {info.get('readers')}"
                f" readers (generator {info.get('version')}), not {articles} and {readers}: use another --data-dir"
            )
        print(f"reusing the site generated in {settings.DATA_DIR} ({info['generate_s']} s to make)", flush=True)
        # Tasks an earlier run (or a script on this site) queued and no worker finished
        # would run at this run's start: a mail planner left queued sent 29,540 emails
        # into one run's inbox before its mail phase.
        from django_tasks_db.models import DBTaskResult

        left = DBTaskResult.objects.filter(finished_at__isnull=True).delete()[0]
        if left:
            print(f"  {left:,} tasks left unfinished by earlier runs dropped", flush=True)
    else:
        from newsdesk.articles.models import Article

        if Article.objects.exists():
            raise SystemExit("the database already holds articles that this benchmark did not generate")
        info = generate(articles, readers, seed, corpus)
        info_file.write_text(json.dumps(info))
    out.write_text(json.dumps(info))


def sessions(count: int, seed: int, out: Path) -> None:
    """Sessions (as a login stores them) and API tokens for `count` readers picked at
    random; earlier runs' are dropped."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.models import Session

    from newsdesk.api.models import ApiToken

    info = json.loads((Path(settings.DATA_DIR) / INFO_FILE).read_text())
    Session.objects.all().delete()
    ApiToken.objects.filter(name="bench-personal").delete()
    rng = random.Random(seed)
    ids = rng.sample(range(2, info["readers"] + 1), min(count, info["readers"] - 1))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    backend = settings.AUTHENTICATION_BACKENDS[0]
    found = []
    users = get_user_model().objects.in_bulk(ids)
    for pk in ids:
        user = users[pk]
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        _, secret = ApiToken.issue(user, "bench-personal")
        found.append({"username": user.username, "session": session.session_key, "token": secret})
    out.write_text(
        json.dumps(
            {
                "readers": found,
                "login": {"username": READER.format(0), "password": PASSWORD},
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "csrf_cookie": settings.CSRF_COOKIE_NAME,
            }
        )
    )


def fanout(out: Path, timeout: float) -> None:
    """The newest `fresh` articles arrive for the fan-out: the watermark is put back
    before them and their story membership dated now; then what the scheduler's pass
    does (fanout.plan, fanout.overdue, one fanout_task per batch) until every batch is
    done by the running workers."""
    from django.conf import settings
    from django.db import connection
    from django.db.models import Max, Sum
    from django.utils import timezone

    from newsdesk.reader.briefings import fanout as fan
    from newsdesk.reader.briefings.models import Activity, FanoutBatch, FanoutState
    from newsdesk.reader.briefings.tasks import fanout_task
    from newsdesk.stories.models import StoryMember

    info = json.loads((Path(settings.DATA_DIR) / INFO_FILE).read_text())
    first, last = info["first_fresh_id"], info["articles"]
    Activity.objects.all().delete()
    FanoutBatch.objects.all().delete()
    FanoutState.objects.update_or_create(pk=1, defaults={"planned_through": first - 1, "planned_at": timezone.now()})
    StoryMember.objects.filter(article_id__gte=first).update(joined_at=timezone.now())
    began = time.time()
    queued = 0
    while True:
        ids = [*fan.plan(), *fan.overdue()]
        for batch_id in ids:
            fanout_task.enqueue(batch_id)
        queued += len(ids)
        planned = FanoutState.objects.values_list("planned_through", flat=True).get(pk=1)
        if planned >= last:
            break
        if not ids:
            time.sleep(0.2)
        if time.time() - began > timeout:
            break
    while FanoutBatch.objects.filter(done_at__isnull=True).exists() and time.time() - began < timeout:
        time.sleep(0.2)
        for batch_id in fan.overdue():  # as the scheduler would: a batch whose task died
            fanout_task.enqueue(batch_id)
    done = FanoutBatch.objects.filter(done_at__isnull=False)
    ended = done.aggregate(end=Max("done_at"))["end"]
    written = done.aggregate(rows=Sum("written"))["rows"] or 0
    seconds = (ended.timestamp() - began) if ended else None
    articles = last - first + 1
    # What a push model would have written: one notification per follower per article.
    activity, interest = (connection.ops.quote_name(t) for t in ("briefings_activity", "reader_interest"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT i.user_id) FROM {activity} a JOIN {interest} i"
            " ON i.kind = a.kind AND i.key = a.key AND i.muted = %s",
            [False],
        )
        pairs, alerted = cursor.fetchone()
    out.write_text(
        json.dumps(
            {
                "fanout_articles": articles,
                "fanout_seconds": round(seconds, 3) if seconds else None,
                "fanout_articles_per_s": round(articles / seconds, 1) if seconds else None,
                "fanout_batches": queued,
                "fanout_batches_left": FanoutBatch.objects.filter(done_at__isnull=True).count(),
                "fanout_activity_rows": written,
                "fanout_reader_article_pairs": pairs,
                "fanout_readers_alerted": alerted,
                "fanout_batch_size": settings.NEWSDESK_ALERTS_BATCH,
            }
        )
    )


def mail_start(out: Path) -> None:
    """Every reader's briefing falls due now: their hour set to the present one in their
    zone, earlier runs' emails and today's site briefing forgotten, each followed story
    last looked at 12 hours before its newest coverage; then the mail planner task is
    queued, as the scheduler's pass queues it."""
    from django.db.models import Max
    from django.utils import timezone

    from newsdesk.reader.briefings import preferences
    from newsdesk.reader.briefings.models import BriefingSettings, Delivery, SiteBriefing
    from newsdesk.reader.briefings.tasks import plan_mail_task
    from newsdesk.reader.models import Interest
    from newsdesk.stories.models import StoryMember

    Delivery.objects.all().delete()
    SiteBriefing.objects.all().delete()
    now = timezone.now()
    for name in BriefingSettings.objects.values_list("time_zone", flat=True).distinct().order_by():
        hour = now.astimezone(preferences.zone(name)).hour
        BriefingSettings.objects.filter(time_zone=name).update(
            briefing_email=True, briefing_hour=hour, alerts_interval="off"
        )
    newest = StoryMember.objects.aggregate(newest=Max("joined_at"))["newest"] or now
    Interest.objects.filter(kind="story").update(seen_at=newest - timedelta(hours=12))
    readers = BriefingSettings.objects.filter(briefing_email=True).exclude(user__email="").count()
    began = time.time()
    plan_mail_task.enqueue()
    out.write_text(json.dumps({"began": began, "expected": readers}))


def mail_report(out: Path) -> None:
    from django.db.models import Count

    from newsdesk.reader.briefings.models import Delivery

    states = dict(Delivery.objects.values_list("state").annotate(n=Count("pk")).order_by())
    errors = list(Delivery.objects.exclude(error="").values_list("error", flat=True)[:3])
    out.write_text(json.dumps({"states": states, "errors": errors}))


def sizes(out: Path) -> None:
    """The database's size, and its largest tables with their indexes."""
    from django.conf import settings
    from django.db import connection

    mb = 2**20
    tables: dict[str, float] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            files = list(Path(settings.DATA_DIR).glob("newsdesk.sqlite3*"))
            total = sum(p.stat().st_size for p in files)
            try:
                cursor.execute(
                    "SELECT COALESCE(m.tbl_name, d.name), SUM(d.pgsize) FROM dbstat d"
                    " LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1 ORDER BY 2 DESC LIMIT 12"
                )
                tables = {name: round(size / mb) for name, size in cursor.fetchall()}
            except Exception:  # noqa: BLE001 - dbstat is a compile-time option of SQLite
                tables = {}
        else:
            cursor.execute("SELECT pg_database_size(current_database())")
            total = cursor.fetchone()[0]
            cursor.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r'"
                " AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 12"
            )
            tables = {name: round(size / mb) for name, size in cursor.fetchall()}
    out.write_text(json.dumps({"database_mb": round(total / mb), "tables_mb": tables}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.personal_data")
    sub = parser.add_subparsers(dest="step", required=True)
    step = sub.add_parser("prepare")
    step.add_argument("--articles", type=int, required=True)
    step.add_argument("--readers", type=int, required=True)
    step.add_argument("--seed", type=int, default=1)
    step.add_argument("--corpus", type=Path, required=True)
    for name in ("sessions", "fanout", "mail-start", "mail-report", "sizes"):
        step = sub.add_parser(name)
        if name == "sessions":
            step.add_argument("--count", type=int, required=True)
            step.add_argument("--seed", type=int, default=5)
        if name == "fanout":
            step.add_argument("--timeout", type=float, default=1800.0)
    for step in sub.choices.values():
        step.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    import django

    django.setup()
    if args.step == "prepare":
        prepare(args.articles, args.readers, args.seed, args.corpus, args.out)
    elif args.step == "sessions":
        sessions(args.count, args.seed, args.out)
    elif args.step == "fanout":
        fanout(args.out, args.timeout)
    elif args.step == "mail-start":
        mail_start(args.out)
    elif args.step == "mail-report":
        mail_report(args.out)
    else:
        sizes(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
