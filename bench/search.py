"""Search latency at scale: generate N articles in a scratch SQLite database and time queries.

    .venv/bin/python -m bench.search --articles 100000

The database is created in a temporary directory (never the configured one) with the
project's migrations, so the FTS5 table and its triggers are the real ones and indexing
happens through the triggers while the articles are inserted. Word frequencies follow
Zipf's law over a 30,000-word vocabulary, so queries range from words in most articles
to words in a handful; bodies are ~350 words and body_html doubles each row, as a page
article would.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from newsdesk.ai.sections import SECTIONS

VOCABULARY = 30_000
BODY_WORDS = 350
SOURCES = 60
HASHTAGS = 800


def _setup(data_dir: Path) -> None:
    os.environ["NEWSDESK_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _vocabulary(rng) -> list[str]:
    """Pronounceable made-up words, with a few real ones at chosen frequency ranks."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words: set[str] = set()
    while len(words) < VOCABULARY:
        length = rng.integers(2, 5)
        words.add("".join(rng.choice(list(consonants)) + rng.choice(list(vowels)) for _ in range(length)))
    vocabulary = sorted(words)
    rng.shuffle(vocabulary)
    for rank, word in (
        (5, "government"),
        (60, "election"),
        (600, "zürich"),
        (6000, "volcano"),
        (25000, "quokka"),
    ):
        vocabulary[rank] = word
    return vocabulary


def generate(count: int, seed: int = 1) -> None:
    import numpy as np
    from django.db import connection, transaction

    rng = np.random.default_rng(seed)
    vocabulary = np.array(_vocabulary(rng), dtype=object)
    ranks = np.arange(1, VOCABULARY + 1)
    probabilities = 1.0 / ranks
    probabilities /= probabilities.sum()
    now = datetime.now(UTC)
    stamp = connection.ops.adapt_datetimefield_value

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO sources_source (name, slug, home_url, country, language, kind, created_at)"
            " VALUES (%s, %s, %s, '', %s, 'commercial', %s)",
            [
                (
                    f"Source {i}",
                    f"source-{i}",
                    f"https://s{i}.example",
                    "en" if i % 4 else "de",
                    stamp(now),
                )
                for i in range(SOURCES)
            ],
        )
        cursor.executemany(
            "INSERT INTO articles_hashtag (slug, name, kind, article_count, created_at) VALUES (%s, %s, 'topic', 0, %s)",
            [(f"tag-{i}", f"Tag {i}", stamp(now)) for i in range(HASHTAGS)],
        )
        cursor.execute("SELECT min(id) FROM sources_source")
        first_source = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM articles_hashtag")
        first_tag = cursor.fetchone()[0]

    started = time.perf_counter()
    batch = 2000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        picks = vocabulary[rng.choice(VOCABULARY, size=(size, BODY_WORDS + 12), p=probabilities)]
        ages = rng.exponential(scale=120.0, size=size)  # days; most news is recent
        rows, enrichments, tags = [], [], []
        for i in range(size):
            n = start + i
            title = " ".join(picks[i, :8]).capitalize()
            description = " ".join(picks[i, 8:12])
            body = " ".join(picks[i, 12:])
            published = stamp(now - timedelta(days=float(ages[i])))
            rows.append(
                (
                    f"https://example.com/{n}",
                    title,
                    "",
                    description,
                    body,
                    f"<p>{body}</p>",
                    "en" if n % 4 else "de",
                    "",
                    BODY_WORDS,
                    2,
                    "page",
                    "[]",
                    f"{n:040x}",
                    published,
                    stamp(now),
                    stamp(now),
                    first_source + n % SOURCES,
                )
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO articles_article (url, title, byline, description, body_text, body_html,"
                " language, lead_image, word_count, reading_time, origin, publisher_sections, content_hash,"
                " published_at, created_at, updated_at, source_id) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
            cursor.execute("SELECT id, published_at FROM articles_article ORDER BY id DESC LIMIT %s", [size])
            for article_id, published in cursor.fetchall():
                enrichments.append(
                    (
                        article_id,
                        "[]",
                        "[]",
                        SECTIONS[article_id % len(SECTIONS)],
                        0.5,
                        b"",
                        "",
                        "{}",
                        "",
                        stamp(now),
                        published,
                    )
                )
                for position, tag in enumerate({int(t) for t in rng.zipf(1.3, size=3) % HASHTAGS}):
                    tags.append((article_id, first_tag + tag, 1.0, 1, position, published))
            cursor.executemany(
                "INSERT INTO articles_enrichment (article_id, summary, summary_sentences, key_points, section,"
                " section_confidence, embedding, model, methods, llm_summary, enriched_at, published_at)"
                " VALUES (%s, '', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                enrichments,
            )
            cursor.executemany(
                "INSERT INTO articles_articlehashtag (article_id, hashtag_id, score, mentions, position, published_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                tags,
            )
        if (start // batch) % 10 == 0:
            print(
                f"  {start + size:>7} articles, {time.perf_counter() - started:.0f}s",
                file=sys.stderr,
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _queries(rng: random.Random) -> list[tuple[str, str, dict]]:
    """(kind, query, filters) triples covering common, rare, phrase and filtered searches."""
    from newsdesk.search.types import SearchFilters

    today = date.today()
    kinds = [
        ("very common word", "government", {}),
        ("common word", "election", {}),
        ("mid word", "zurich", {}),
        ("rare word", "volcano", {}),
        ("very rare word", "quokka", {}),
        ("two words", "government election", {}),
        ("phrase", '"government election"', {}),
        ("exclusion", "election -government", {}),
        ("no match", "xyzzyplugh", {}),
        ("source filter", "election", {"source": "source-7"}),
        ("section filter", "election", {"section": "sports"}),
        ("hashtag filter", "election", {"hashtag": "tag-3"}),
        ("language filter", "election", {"language": "de"}),
        ("last 7 days", "election", {"since": today - timedelta(days=7)}),
        (
            "all filters",
            "government",
            {"source": "source-3", "section": "politics", "since": today - timedelta(days=90)},
        ),
    ]
    return [(kind, query, SearchFilters(**filters)) for kind, query, filters in kinds]


def measure(repeats: int, seed: int = 2) -> None:
    from django.db import connection

    from newsdesk.search.backends import search

    rng = random.Random(seed)
    queries = _queries(rng)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM articles_article")
        total_articles = cursor.fetchone()[0]
    print(f"\n{total_articles} articles; {repeats} runs per query; page of 20 with snippets and total\n")
    print(f"{'query':<18} {'hits':>7} {'p50 ms':>8} {'p99 ms':>8}")
    every: list[float] = []
    for kind, query, filters in queries:
        search(query, filters)  # warm the page cache
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            _, total = search(query, filters)
            times.append((time.perf_counter() - started) * 1000)
        every += times
        print(f"{kind:<18} {total:>7} {statistics.median(times):>8.1f} {_p99(times):>8.1f}")
    print(f"{'all queries':<18} {'':>7} {statistics.median(every):>8.1f} {_p99(every):>8.1f}")


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[98] if len(times) > 1 else times[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (reused when it exists)")
    args = parser.parse_args(argv)

    data_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="newsdesk-search-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    reuse = (data_dir / "bench.sqlite3").exists()
    _setup(data_dir)
    if not reuse:
        started = time.perf_counter()
        generate(args.articles)
        print(
            f"generated and indexed {args.articles} articles in {time.perf_counter() - started:.0f}s",
            file=sys.stderr,
        )
    measure(args.repeats)
    if not args.keep:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
