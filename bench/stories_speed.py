"""`newsdesk bench stories-speed`: what placing an article into a story costs per article.

The story worker's step after enrichment, end to end on a fresh SQLite database in a
temporary directory (never the site's own): near-duplicate folding (MinHash signature and
band lookup), the headline embedding, the clusterer (rebuilt from the database at each
batch, then one `add` per article), the database writes and story refreshes, and the
vector index update with its save; then the related-articles query of the article page
(`related_for`) on a sample of the placed articles. Articles are the BBC News set (2,225 articles, some of
them republished copies), given publication times in file order over two days and
enriched beforehand (that cost belongs to `newsdesk bench enrich`), then placed in
batches of 32 as the worker receives them.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import BBC_ARTICLES

DEFAULT_CORPUS = BBC_ARTICLES
BATCH = 32


def add_arguments(parser) -> None:
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of .txt articles (headline first)")
    parser.add_argument("--articles", type=int, default=2225)
    parser.add_argument("--batch", type=int, default=BATCH)


def run(*, corpus: Path = DEFAULT_CORPUS, articles: int = 2225, batch: int = BATCH, **_ignored) -> dict:
    if not Path(corpus).is_dir():
        raise FileNotFoundError(f"no corpus at {corpus} (../shared/corpora/summaries/bbc/articles)")
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-stories-") as data_dir:
        env = {
            **os.environ,
            "NEWSDESK_DATA_DIR": data_dir,
            "NEWSDESK_LOG_LEVEL": "WARNING",
            "NEWSDESK_VECTOR_DIR": str(Path(data_dir) / "vectors"),
            "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
        }
        env.pop("DATABASE_URL", None)
        out = subprocess.run(
            [sys.executable, "-m", "bench.stories_speed", str(corpus), str(articles), str(batch)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for name in (
        "place_ms_per_article",
        "title_embedding_ms_per_article",
        "dedup_ms_per_article",
        "clustering_ms_per_article",
        "index_ms_per_article",
        "total_ms_per_article",
        "related_p50_ms",
        "related_p99_ms",
    ):
        print(f"{name:34} {result[name]:8.2f}")
    print(f"{'stories':34} {result['stories']:8d}\n{'copies folded':34} {result['copies']:8d}")
    return result


def _measure(corpus: Path, count: int, batch: int) -> dict:
    """Runs in the subprocess, on its own database."""
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command

    from bench.publisher import load_articles
    from newsdesk.ai import embeddings
    from newsdesk.articles.models import Article, Enrichment, to_blob
    from newsdesk.sources.models import Source
    from newsdesk.stories import clustering, duplicates, index
    from newsdesk.stories.assign import place_articles
    from newsdesk.stories.models import NearDuplicate, Story
    from newsdesk.stories.related_db import related_for

    call_command("migrate", verbosity=0)
    texts = load_articles(Path(corpus))[:count]
    sources = [
        Source.objects.create(name=f"Publisher {i}", slug=f"publisher-{i}", home_url=f"https://p{i}.example/")
        for i in range(12)
    ]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    step = timedelta(days=2) / max(len(texts), 1)
    bodies = ["\n\n".join(paragraphs) for _, paragraphs in texts]
    vectors = embeddings.embed([f"{title}\n\n{body}" for (title, _), body in zip(texts, bodies)])
    ids = []
    for n, ((title, _), body, vector) in enumerate(zip(texts, bodies, vectors)):
        article = Article.objects.create(
            source=sources[n % len(sources)],
            url=f"https://p.example/{n}",
            title=title,
            body_text=body,
            language="en",
            content_hash=f"bench-{n}",
            published_at=start + n * step,
        )
        Enrichment.objects.create(
            article=article,
            summary="",
            summary_sentences=[],
            embedding=to_blob(vector),
            published_at=article.published_at,
        )
        ids.append(article.pk)

    titles = [title for title, _ in texts]
    embeddings.embed(titles[:batch])  # warm
    began = time.perf_counter()
    embeddings.embed(titles)
    title_s = time.perf_counter() - began
    began = time.perf_counter()
    for body in bodies:
        values = duplicates.signature(body)
        if values is not None:
            duplicates.band_keys(values)
    signature_s = time.perf_counter() - began
    title_vectors = embeddings.embed(titles)
    clusterer = clustering.OnlineClusterer()
    began = time.perf_counter()
    for n, (title, vector) in enumerate(zip(titles, title_vectors)):
        clusterer.add(clustering.Item(n, vector, title, (start + n * step).timestamp(), f"publisher-{n % 12}"))
    cluster_s = time.perf_counter() - began

    place_s = index_s = 0.0
    for at in range(0, len(ids), batch):
        chunk = ids[at : at + batch]
        began = time.perf_counter()
        place_articles(chunk)
        place_s += time.perf_counter() - began
        began = time.perf_counter()
        index.add_articles(chunk)
        index_s += time.perf_counter() - began
    # The related-articles box as the article page asks for it, on a fresh reader.
    index._reader = None
    sample = ids[:: max(1, len(ids) // 300)]
    related_for(Article.objects.get(pk=sample[0]))  # opens the index
    latencies = []
    for article in Article.objects.filter(pk__in=sample).select_related("source"):
        began = time.perf_counter()
        related_for(article)
        latencies.append(1000 * (time.perf_counter() - began))
    latencies.sort()
    n = max(len(ids), 1)
    return {
        "articles": len(ids),
        "batch": batch,
        "place_ms_per_article": round(1000 * place_s / n, 2),
        "title_embedding_ms_per_article": round(1000 * title_s / n, 2),
        "dedup_ms_per_article": round(1000 * signature_s / n, 3),
        "clustering_ms_per_article": round(1000 * cluster_s / n, 3),
        "index_ms_per_article": round(1000 * index_s / n, 2),
        "total_ms_per_article": round(1000 * (place_s + index_s) / n, 2),
        "articles_per_second": round(n / (place_s + index_s), 1),
        "related_p50_ms": round(latencies[len(latencies) // 2], 2),
        "related_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "stories": Story.objects.filter(merged_into__isnull=True).count(),
        "copies": NearDuplicate.objects.count(),
        "vectors": len(index.reader() or ()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "note": "place = fold + headline embedding + clustering + database writes and story refresh; "
        "the dedup and clustering figures are the in-memory steps alone, the title embedding "
        "the model alone, all within place",
    }


if __name__ == "__main__":
    print(json.dumps(_measure(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
