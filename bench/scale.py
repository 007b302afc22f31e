"""`newsdesk bench scale`: newsdesk on PostgreSQL at scale.

1. Ingest throughput on PostgreSQL with 1 and with 2 worker processes (and the one
   scheduler), from the simulated publisher on 127.0.0.1 (see bench/ingest.py).
2. With N articles generated straight into PostgreSQL (1,000,000 by default; COPY of
   varied made-up text, the GIN search index built afterwards), latency of the
   project's search interface for one-word, multi-word and filtered queries, and of the
   article page through Django's test client (the whole request: URL routing,
   middleware, queries, template), and the database's size.

The benchmark needs a PostgreSQL server: when DATABASE_URL names one, scratch databases
are created on it (the role needs CREATEDB) and dropped afterwards; otherwise a
temporary server is started from Debian's binaries and removed afterwards.

The throw-away servers come from `devtools/services.py`, shared with CI and the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import BBC_ARTICLES
from devtools.services import LocalPostgres

# --- The benchmark -------------------------------------------------------------------

DEFAULT_CORPUS = BBC_ARTICLES
SCALE_SOURCES = 60
SCALE_HASHTAGS = 800
# Languages of the generated sources (and so of their articles): mostly English, with
# the other stemmers the index uses.
SCALE_LANGUAGES = ("en", "en", "en", "en", "en", "de", "fr", "es")
PARAGRAPH_WORDS = 60
BODY_WORDS = 360
SUMMARY_KEYS = (
    "ingest_1_worker",
    "ingest_2_workers",
    "scaling",
    "search_p50_ms",
    "search_p99_ms",
    "article_p50_ms",
    "article_p99_ms",
    "database_size_mb",
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--articles", type=int, default=1_000_000, help="articles generated for the search and article-page latencies"
    )
    parser.add_argument(
        "--ingest-articles",
        type=int,
        default=2000,
        help="pages per ingest run (one run with 1 worker, one with 2; 0 skips ingest)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="plain-text articles for the simulated publisher (made-up text when absent)",
    )
    parser.add_argument("--repeats", type=int, default=30, help="runs of each search query")
    parser.add_argument(
        "--page-requests", type=int, default=500, help="article pages requested (each a different article, so uncached)"
    )
    parser.add_argument(
        "--query-timeout",
        type=float,
        default=10.0,
        help="seconds; a search cancelled after this long counts as this long",
    )
    parser.add_argument(
        "--pg-dir",
        type=Path,
        default=None,
        help="run the temporary PostgreSQL server in DIR and keep it (with --keep, "
        "the generated articles are reused next time)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated database (newsdesk_bench_scale_N) and reuse it"
    )


class _Server:
    """The PostgreSQL server the benchmark creates its scratch databases on."""

    def __init__(self, pg_dir: Path | None) -> None:
        self.pg_dir = pg_dir
        self.local: LocalPostgres | None = None
        self.scratch: Path | None = None
        self.admin_url = ""

    def __enter__(self) -> _Server:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://", "pgsql://")):
            self.admin_url = url.replace("pgsql://", "postgres://", 1)
            print(f"PostgreSQL from DATABASE_URL: scratch databases on {_redact(url)}")
            return self
        root = self.pg_dir
        if root is None:
            self.scratch = root = Path(tempfile.mkdtemp(prefix="newsdesk-bench-scale-"))
        # A durable server (fsync on), as in production; memory for a 24 GB machine.
        self.local = LocalPostgres(
            root,
            durable=True,
            settings={
                "shared_buffers": "2GB",
                "effective_cache_size": "12GB",
                "work_mem": "32MB",
                "maintenance_work_mem": "2GB",
                "max_wal_size": "8GB",
                "checkpoint_timeout": "30min",
                "random_page_cost": "1.1",
            },
        ).start()
        self.admin_url = self.local.url()
        print(f"temporary PostgreSQL {self.local.bindir.parent.name} on 127.0.0.1:{self.local.port} in {root}")
        return self

    def __exit__(self, *exc) -> None:
        if self.local:
            self.local.stop()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def url(self, database: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        return urlunsplit(urlsplit(self.admin_url)._replace(path="/" + database))

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def exists(self, database: str) -> bool:
        with self._admin() as admin:
            return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone())

    def create(self, database: str) -> str:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
        return self.url(database)

    def drop(self, database: str) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _redact(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _made_up_corpus(folder: Path, count: int = 300, seed: int = 3) -> Path:
    """Plain-text articles of made-up words, for when ../shared is not beside the repo."""
    import numpy as np

    rng = np.random.default_rng(seed)
    vocabulary = np.array(_vocabulary(rng), dtype=object)
    probabilities = _zipf(len(vocabulary))
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        words = vocabulary[rng.choice(len(vocabulary), size=10 + 6 * 40, p=probabilities)]
        paragraphs = [" ".join(words[10 + 40 * k : 50 + 40 * k]).capitalize() + "." for k in range(6)]
        (folder / f"{n:04d}.txt").write_text(" ".join(words[:10]).capitalize() + "\n\n" + "\n\n".join(paragraphs))
    return folder


def run(
    *,
    articles: int = 1_000_000,
    ingest_articles: int = 2000,
    corpus: Path = DEFAULT_CORPUS,
    repeats: int = 30,
    page_requests: int = 500,
    query_timeout: float = 10.0,
    pg_dir: Path | None = None,
    keep: bool = False,
    **_options,
) -> dict:
    from bench.ingest import ingest_benchmark

    started = time.perf_counter()
    result: dict = {}
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-scale-work-"))
    try:
        with _Server(pg_dir) as server:
            if ingest_articles:
                texts = corpus if corpus.is_dir() else _made_up_corpus(work / "corpus")
                if texts != corpus:
                    print(f"{corpus} is absent: the publisher serves made-up articles")
                runs = {}
                for workers in (1, 2):
                    name = f"newsdesk_bench_ingest_{workers}"
                    url = server.create(name)
                    try:
                        print(f"\ningest on PostgreSQL, {workers} worker process(es):")
                        runs[workers] = ingest_benchmark(
                            texts, articles=ingest_articles, workers=workers, database_url=url
                        )
                    finally:
                        server.drop(name)
                one, two = runs[1]["articles_per_s"], runs[2]["articles_per_s"]
                result.update(
                    ingest_1_worker=one,
                    ingest_2_workers=two,
                    scaling=round(two / one, 2) if one else None,
                    ingest_pages=ingest_articles,
                    ingest_complete=runs[1]["complete"] and runs[2]["complete"],
                    ingest_enriched_after_s={1: runs[1]["enriched_after_s"], 2: runs[2]["enriched_after_s"]},
                )

            name = f"newsdesk_bench_scale_{articles}"
            reuse = keep and server.exists(name)
            url = server.url(name) if reuse else server.create(name)
            out = work / "measure.json"
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "NEWSDESK_DATA_DIR": str(work / "data"),
                "NEWSDESK_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
                "NEWSDESK_DEFAULT_SOURCES": "0",
                "NEWSDESK_LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
            }
            try:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.scale",
                        "measure",
                        "--articles",
                        str(articles),
                        "--repeats",
                        str(repeats),
                        "--page-requests",
                        str(page_requests),
                        "--query-timeout",
                        str(query_timeout),
                        "--result",
                        str(out),
                    ],
                    env=env,
                    check=True,
                )
            finally:
                if not keep:
                    server.drop(name)
            result.update(json.loads(out.read_text()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["bench_seconds"] = round(time.perf_counter() - started)
    print("\n" + "  ".join(f"{key}={result.get(key)}" for key in SUMMARY_KEYS))
    return result


# --- In the measuring process (DATABASE_URL names the scratch database) ---------------


def _zipf(size: int):
    import numpy as np

    probabilities = 1.0 / np.arange(1, size + 1)
    return probabilities / probabilities.sum()


def _vocabulary(rng) -> list[str]:
    from bench.search import _vocabulary as vocabulary

    return vocabulary(rng)


def _row(model, values: dict, connection) -> list:
    """Every concrete column of `model`, in _meta order: the given values, else the field's
    default (Django's defaults live in Python, so COPY has to spell them out)."""
    row = []
    for field in model._meta.concrete_fields:
        value = values[field.attname] if field.attname in values else field.get_default()
        row.append(field.get_db_prep_save(value, connection))
    return row


def _columns(model) -> str:
    return ", ".join(f'"{field.column}"' for field in model._meta.concrete_fields)


def generate(count: int, seed: int = 1) -> None:
    """`count` articles with enrichment (section) and hashtags, COPYed into PostgreSQL.

    Text: made-up words with Zipf frequencies over a 30,000-word vocabulary plus a few
    real words at chosen ranks (as bench/search.py), so queries range from words
    in most articles to words in a handful. Bodies are ~360 words in paragraphs, with
    body_html alongside as a page article has. The GIN search index is dropped for the
    load and built once afterwards, as one would for a bulk import (the stored
    search_vector column is computed by PostgreSQL as each row is copied).
    """
    from datetime import UTC, datetime, timedelta

    import numpy as np
    from django.db import connection

    from bench.search import SECTIONS
    from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
    from newsdesk.search import schema
    from newsdesk.sources.models import Source

    rng = np.random.default_rng(seed)
    vocabulary = np.array(_vocabulary(rng), dtype=object)
    probabilities = _zipf(len(vocabulary))
    now = datetime.now(UTC)
    sources = Source.objects.bulk_create(
        [
            Source(
                name=f"Source {i}",
                slug=f"source-{i}",
                home_url=f"https://s{i}.example",
                language=SCALE_LANGUAGES[i % len(SCALE_LANGUAGES)],
            )
            for i in range(SCALE_SOURCES)
        ]
    )
    tags = Hashtag.objects.bulk_create([Hashtag(slug=f"tag-{i}", name=f"Tag {i}") for i in range(SCALE_HASHTAGS)])
    source_ids = [s.pk for s in sources]
    languages = [s.language for s in sources]
    tag_ids = [t.pk for t in tags]
    create_index = schema.POSTGRES_INDEX  # GIN on the stored search_vector (migration 0002)

    connection.ensure_connection()
    raw = connection.connection  # psycopg, in autocommit as Django keeps it: each COPY commits
    with raw.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS search_article_vector")
    started = time.perf_counter()
    batch = 2000
    n_words = 12 + 30 + BODY_WORDS
    with raw.cursor() as articles_cursor:
        with articles_cursor.copy(f"COPY articles_article ({_columns(Article)}) FROM STDIN") as copy:
            enrichment_rows, hashtag_rows = [], []
            for start in range(0, count, batch):
                size = min(batch, count - start)
                picks = vocabulary[rng.choice(len(vocabulary), size=(size, n_words), p=probabilities)]
                ages = rng.exponential(scale=120.0, size=size)  # days; most news is recent
                for i in range(size):
                    n = start + i + 1
                    words = picks[i]
                    body = words[42:]
                    paragraphs = [
                        " ".join(body[k : k + PARAGRAPH_WORDS]) + "." for k in range(0, len(body), PARAGRAPH_WORDS)
                    ]
                    published = now - timedelta(days=float(ages[i]))
                    source = n % SCALE_SOURCES
                    copy.write_row(
                        _row(
                            Article,
                            {
                                "id": n,
                                "source_id": source_ids[source],
                                "url": f"https://s{source}.example/news/{n}",
                                "title": " ".join(words[:10]).capitalize(),
                                "description": " ".join(words[12:42]).capitalize() + ".",
                                "body_text": "\n\n".join(paragraphs),
                                "body_html": "".join(f"<p>{p}</p>" for p in paragraphs),
                                "language": languages[source],
                                "word_count": BODY_WORDS,
                                "reading_time": 2,
                                "origin": "page",
                                "content_hash": f"{n:040x}",
                                "published_at": published,
                                "created_at": published,
                                "updated_at": published,
                            },
                            connection,
                        )
                    )
                    enrichment_rows.append(
                        _row(
                            Enrichment,
                            {
                                "article_id": n,
                                "section": SECTIONS[n % len(SECTIONS)],
                                "section_confidence": 0.5,
                                "embedding": b"",
                                "enriched_at": published,
                                "published_at": published,
                            },
                            connection,
                        )
                    )
                    for position, tag in enumerate(sorted({int(t) % SCALE_HASHTAGS for t in rng.zipf(1.3, size=3)})):
                        hashtag_rows.append((n, tag_ids[tag], position, published))
                done = start + size
                if done % 100_000 == 0 or done == count:
                    print(f"  {done:>9,} articles copied, {time.perf_counter() - started:.0f}s", flush=True)
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY articles_enrichment ({_columns(Enrichment)}) FROM STDIN") as copy:
            for row in enrichment_rows:
                copy.write_row(row)
        del enrichment_rows
        with cursor.copy(f"COPY articles_articlehashtag ({_columns(ArticleHashtag)}) FROM STDIN") as copy:
            for k, (article_id, tag_id, position, published) in enumerate(hashtag_rows, 1):
                copy.write_row(
                    _row(
                        ArticleHashtag,
                        {
                            "id": k,
                            "article_id": article_id,
                            "hashtag_id": tag_id,
                            "score": 1.0,
                            "mentions": 1,
                            "position": position,
                            "published_at": published,
                        },
                        connection,
                    )
                )
        for table in ("articles_article", "articles_articlehashtag"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute(
            "UPDATE articles_hashtag h SET article_count = (SELECT count(*) FROM articles_articlehashtag"
            " a WHERE a.hashtag_id = h.id)"
        )
    print(
        f"copied {count:,} articles, their enrichment and {len(hashtag_rows):,} hashtags"
        f" in {time.perf_counter() - started:.0f}s",
        flush=True,
    )
    started = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute(create_index)
    print(f"built the GIN search index in {time.perf_counter() - started:.0f}s", flush=True)
    started = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f}s", flush=True)


def _queries() -> list[tuple[str, str, object]]:
    """One-word (common to rare), multi-word, phrase, exclusion and filtered searches: the
    mix of bench/search.py, plus a German-language filter."""
    import random

    from bench.search import _queries as queries

    return queries(random.Random(2))


def _percentile(times: list[float], q: int) -> float:
    import statistics

    if len(times) == 1:
        return times[0]
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1]


def measure_search(repeats: int, timeout: float) -> dict:
    from django.db import OperationalError, connection

    from newsdesk.search.backends import search

    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(timeout * 1000)}")
    print(
        f"\nsearch through newsdesk.search.backends.search (page of 20, snippets, total);"
        f" {repeats} runs per query, cancelled after {timeout:g}s"
    )
    print(f"{'query':<18} {'hits':>9} {'p50 ms':>9} {'p99 ms':>9}")
    every: list[float] = []
    per_kind: dict = {}
    timeouts = 0
    for kind, query, filters in _queries():
        times: list[float] = []
        total, exact = None, True
        spent = 0.0
        for attempt in range(repeats + 1):  # the first run warms the cache and is not counted
            began = time.perf_counter()
            try:
                results = search(query, filters)
                elapsed = (time.perf_counter() - began) * 1000
                total, exact = results[1], results.exact
            except OperationalError:  # statement_timeout: cancelled
                elapsed = timeout * 1000
                # Every further run would be cancelled too: count them without running them.
                times = [elapsed] * repeats
                timeouts += repeats
                break
            spent += elapsed / 1000
            if attempt:
                times.append(elapsed)
            if spent > 60 and len(times) >= 3:  # enough of a slow query
                break
        every += times
        p50, p99 = _percentile(times, 50), _percentile(times, 99)
        per_kind[kind] = {
            "hits": total,
            "hits_exact": exact,
            "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1),
            "runs": len(times),
        }
        shown = "timeout" if total is None else f"{total:,}" + ("" if exact else "+")
        print(f"{kind:<18} {shown:>9} {p50:>9.1f} {p99:>9.1f}", flush=True)
    p50, p99 = _percentile(every, 50), _percentile(every, 99)
    print(f"{'all queries':<18} {'':>9} {p50:>9.1f} {p99:>9.1f}")
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    return {
        "search_p50_ms": round(p50, 1),
        "search_p99_ms": round(p99, 1),
        "search_timeouts": timeouts,
        "search_queries": per_kind,
    }


def measure_pages(requests: int, seed: int = 4) -> dict:
    import random

    from django.db import connection
    from django.test import Client

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM articles_article")
        top = cursor.fetchone()[0]
    rng = random.Random(seed)
    ids = rng.sample(range(1, top + 1), min(top, requests + 20))
    client = Client()
    times: list[float] = []
    for k, pk in enumerate(ids):
        began = time.perf_counter()
        response = client.get(f"/articles/{pk}/")
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"/articles/{pk}/ answered {response.status_code}")
        if k >= 20:  # the first requests load templates and warm the connection
            times.append(elapsed)
    p50, p99 = _percentile(times, 50), _percentile(times, 99)
    print(
        f"\narticle page /articles/N/ through Django's test client (whole request, each article"
        f" once, so the page cache misses): {len(times)} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    return {
        "article_p50_ms": round(p50, 1),
        "article_p99_ms": round(p99, 1),
        "article_requests": len(times),
        "article_method": "django test client, uncached pages",
    }


def measure_size() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_database_size(current_database()), pg_total_relation_size('articles_article'),"
            " pg_relation_size('search_article_vector'), (SELECT count(*) FROM articles_article)"
        )
        database, table, index, count = cursor.fetchone()
    mb = 1024 * 1024
    print(
        f"\n{count:,} articles: database {database / mb:,.0f} MB; articles table with its TOAST and"
        f" indexes {table / mb:,.0f} MB, of which the GIN search index {index / mb:,.0f} MB"
    )
    return {
        "articles": count,
        "database_size_mb": round(database / mb),
        "articles_table_mb": round(table / mb),
        "search_index_mb": round(index / mb),
    }


def measure(articles: int, repeats: int, page_requests: int, query_timeout: float, result: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("measure needs DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as `newsdesk up` does
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM articles_article")
        present = cursor.fetchone()[0]
    figures: dict = {}
    if present == 0:
        started = time.perf_counter()
        print(f"\ngenerating {articles:,} articles in PostgreSQL")
        generate(articles)
        figures["generate_seconds"] = round(time.perf_counter() - started)
    else:
        print(f"\nreusing the {present:,} articles already in the database")
    figures.update(measure_size())
    figures.update(measure_search(repeats, query_timeout))
    figures.update(measure_pages(page_requests))
    result.write_text(json.dumps(figures))


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.scale measure ...`, run by `newsdesk bench scale` in a process of its own."""
    parser = argparse.ArgumentParser(prog="bench.scale")
    sub = parser.add_subparsers(dest="command", required=True)
    measuring = sub.add_parser("measure", help="(run by `newsdesk bench scale`) generate and time")
    measuring.add_argument("--articles", type=int, required=True)
    measuring.add_argument("--repeats", type=int, default=30)
    measuring.add_argument("--page-requests", type=int, default=500)
    measuring.add_argument("--query-timeout", type=float, default=10.0)
    measuring.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    measure(args.articles, args.repeats, args.page_requests, args.query_timeout, args.result)


if __name__ == "__main__":
    main()
