"""`newsdesk bench stories-speed`: what placing an article into a story costs per article.

The story worker's step after enrichment, end to end on a fresh SQLite database in a
temporary directory (never the site's own): near-duplicate folding (MinHash signature and
band lookup), the headline embedding, the clusterer (rebuilt from the database at each
batch, then one `add` per article), the database writes and story refreshes, and the
vector index update with its save; then the related-articles query of the article page
(`related_for`) on a sample of the placed articles; then, on the first CLAIMS_SAMPLE
articles, claim extraction as the enrichment runs it and the claim-alignment refresh of
each story a batch of them touches (as `align_claims_task` does when articles join: the
embedding of the new claims' sentences, in stories of two publishers or more, is part of
it). Articles are the BBC News set (2,225 articles, some of
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
CLAIMS_SAMPLE = 512  # articles (16 batches of 32) whose claims are extracted and whose stories are aligned


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
        "claims_ms_per_article",
        "alignment_ms_per_story_refresh",
        "alignment_p99_ms_per_story_refresh",
    ):
        print(f"{name:34} {result[name]:8.2f}")
    print(f"{'stories':34} {result['stories']:8d}\n{'copies folded':34} {result['copies']:8d}")
    return result


def _claims_cost(texts: list[tuple[str, list[str]]]) -> tuple[float, list]:
    """Claim extraction as the enrichment runs it (entities per sentence, the figures and
    quotations; their sentences are embedded by the alignment, once the article is in a
    story of two publishers): the time and the results."""
    from newsdesk.perspectives import alignment

    alignment.extract(texts[0][0], "\n\n".join(texts[0][1]), "en")  # warm
    began = time.perf_counter()
    found = [alignment.extract(title, "\n\n".join(paragraphs), "en") for title, paragraphs in texts]
    return time.perf_counter() - began, found


def _measure(corpus: Path, count: int, batch: int) -> dict:
    """Runs in the subprocess, on its own database."""
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command
    from django.db import transaction

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

    # Claims: extraction as the enrichment runs it, then stored for the sample's articles,
    # whose stories are aligned below as each batch joins them (as align_claims_task does).
    from newsdesk.perspectives import alignment
    from newsdesk.perspectives.models import ClaimAlignment
    from newsdesk.stories.models import StoryMember

    claims_s, extracted = _claims_cost(texts[:CLAIMS_SAMPLE])
    claims_n = len(extracted)
    sample_ids = set(ids[:CLAIMS_SAMPLE])
    articles = Article.objects.in_bulk(ids[:CLAIMS_SAMPLE])
    for pk, found in zip(ids[:CLAIMS_SAMPLE], extracted, strict=True):
        with transaction.atomic():
            alignment.store_claims(articles[pk], found)
    refreshes: list[float] = []

    place_s = index_s = 0.0
    for at in range(0, len(ids), batch):
        chunk = ids[at : at + batch]
        began = time.perf_counter()
        place_articles(chunk)
        place_s += time.perf_counter() - began
        began = time.perf_counter()
        index.add_articles(chunk)
        index_s += time.perf_counter() - began
        if sample_ids.intersection(chunk):
            touched = set(StoryMember.objects.filter(article_id__in=chunk).values_list("story_id", flat=True))
            for story_id in sorted(touched):
                began = time.perf_counter()
                alignment.refresh_story(story_id)
                refreshes.append(1000 * (time.perf_counter() - began))
    refreshes.sort()
    aligned_stories = ClaimAlignment.objects.count()
    conflicts = sum(len(s.get("conflicts", [])) for s in ClaimAlignment.objects.values_list("summary", flat=True))
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
        "claims_ms_per_article": round(1000 * claims_s / max(1, claims_n), 2),
        "claims_articles": claims_n,
        "alignment_ms_per_story_refresh": round(sum(refreshes) / max(1, len(refreshes)), 2),
        "alignment_p99_ms_per_story_refresh": round(refreshes[min(len(refreshes) - 1, int(len(refreshes) * 0.99))], 2)
        if refreshes
        else 0.0,
        "alignment_refreshes": len(refreshes),
        "aligned_stories": aligned_stories,
        "conflicts_shown": conflicts,
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
