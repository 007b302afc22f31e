"""`newsdesk bench ingest`: end-to-end ingest throughput into SQLite.

A simulated publisher on 127.0.0.1 serves article pages and feeds; a fresh data
directory gets the feeds through `newsdesk import-opml` while the production worker and
scheduler processes run, exactly as under `newsdesk up`. The clock runs from the
subscription until the last article is stored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.publisher import Publisher, load_articles
from newsdesk.sources.opml import OpmlFeed, build_opml


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB, 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ingest_benchmark(
    corpus: Path, *, articles: int = 2000, workers: int = 2, timeout: float = 900, database_url: str | None = None
) -> dict:
    """`database_url`: an empty PostgreSQL database to ingest into instead of SQLite."""
    publisher = Publisher(load_articles(corpus), articles).start()
    data_dir = Path(tempfile.mkdtemp(prefix="newsdesk-bench-ingest-"))
    env = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(data_dir),
        "NEWSDESK_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSDESK_FETCH_HOST_DELAY": "0",
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)  # always the fresh SQLite file in data_dir
    if database_url:  # ... unless `newsdesk bench scale` gives an empty PostgreSQL database
        env["DATABASE_URL"] = database_url
    newsdesk = [sys.executable, "-m", "newsdesk"]
    subprocess.run([*newsdesk, "migrate", "--verbosity", "0"], env=env, check=True)
    opml = data_dir / "bench.opml"
    opml.write_bytes(
        build_opml(OpmlFeed(url, f"Bench feed {k}", publisher.base, None) for k, url in enumerate(publisher.feed_urls))
    )

    children = [subprocess.Popen([*newsdesk, "worker", "--verbosity", "0"], env=env) for _ in range(workers)]
    children.append(subprocess.Popen([*newsdesk, "scheduler", "--interval", "0.5"], env=env))
    try:
        time.sleep(12)  # let the workers load their models before the clock starts
        print(
            f"publisher on {publisher.base}: {articles} pages in {len(publisher.feed_urls)} feeds; "
            f"{workers} worker process(es)"
        )
        start = time.perf_counter()
        subprocess.run([*newsdesk, "import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)
        if database_url:
            import psycopg

            db = psycopg.connect(database_url, autocommit=True)  # same execute().fetchone()
        else:
            db = sqlite3.connect(f"file:{data_dir / 'newsdesk.sqlite3'}?mode=ro", uri=True, timeout=30)
        stored = done = 0
        while time.perf_counter() - start < timeout:
            stored = db.execute("SELECT count(*) FROM articles_article").fetchone()[0]
            done = db.execute("SELECT count(*) FROM sources_entry WHERE state != 'pending'").fetchone()[0]
            if done >= articles:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        enriched = 0
        while time.perf_counter() - start < timeout:
            enriched = db.execute("SELECT count(*) FROM articles_enrichment").fetchone()[0]
            if enriched >= stored:
                break
            time.sleep(0.5)
        enriched_after = time.perf_counter() - start
        from_page = db.execute("SELECT count(*) FROM articles_article WHERE origin = 'page'").fetchone()[0]
        peaks = [peak_rss_mb(child.pid) for child in children[:workers]]
        db.close()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        publisher.stop()
        shutil.rmtree(data_dir, ignore_errors=True)  # the database and vectors of this run only

    rate = stored / elapsed if elapsed else 0.0
    print(f"stored {stored} articles ({from_page} from pages) in {elapsed:.1f} s: {rate:.1f} articles/s")
    print(f"all {enriched} enriched (embedding, hashtags, summary, section) after {enriched_after:.1f} s")
    print(f"peak RSS per worker process: {', '.join(f'{p:.0f} MB' for p in peaks)}")
    return {
        "articles": stored,
        "articles_per_s": round(rate, 1),
        "seconds": round(elapsed, 2),
        "from_page": from_page,
        "workers": workers,
        "peak_rss_mb": round(max(peaks, default=0.0), 1),
        "peak_rss_total_mb": round(sum(peaks), 1),
        "complete": done >= articles,
        "enriched": enriched,
        "enriched_after_s": round(enriched_after, 1),
    }
