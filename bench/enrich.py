"""`newsdesk bench enrich`: AI enrichment throughput and ask-the-article latency.

BBC-sized articles are stored in a fresh SQLite database, then enriched by the same
`enrich_articles` the workers run (embedding, hashtags, summary and key points, section,
language, database writes), in as many processes as production runs workers. The
embedding step alone is timed on the same articles for comparison, and ask-the-article
is timed on questions about them.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import peak_rss_mb
from bench.publisher import load_articles

QUESTIONS = [
    "What did {name} say?",
    "Who is {name}?",
    "When did this happen?",
    "How much money is involved?",
    "Why does {name} matter here?",
    "What happens next?",
    "What is the capital of Peru?",
]


def enrich_benchmark(corpus: Path, *, articles: int = 400, processes: int = 2, questions: int = 200) -> dict:
    items = load_articles(corpus)[:articles]
    data_dir = Path(tempfile.mkdtemp(prefix="newsdesk-bench-enrich-"))
    (data_dir / "articles.json").write_text(json.dumps(items))
    env = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(data_dir),
        "NEWSDESK_LOG_LEVEL": "WARNING",
        "NEWSDESK_TORCH_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
    }
    env.pop("DATABASE_URL", None)
    env.pop("NEWSDESK_LLM_URL", None)  # the offline methods are what is measured
    python = [sys.executable, "-m", "bench.enrich"]
    subprocess.run([sys.executable, "-m", "newsdesk", "migrate", "--verbosity", "0"], env=env, check=True)
    subprocess.run([*python, "store", str(data_dir)], env=env, check=True)

    print(f"{len(items)} BBC articles, {processes} process(es), torch on 1 thread each")
    results = _parallel(python, "embed", data_dir, processes, env)
    embed_rate = len(items) / max(r["seconds"] for r in results)
    print(f"embedding only: {embed_rate:.1f} articles/s")
    results = _parallel(python, "enrich", data_dir, processes, env)
    enrich_seconds = max(r["seconds"] for r in results)
    enrich_rate = sum(r["articles"] for r in results) / enrich_seconds
    peak = max(r["peak_rss_mb"] for r in results)
    print(f"full enrichment: {enrich_rate:.1f} articles/s (peak RSS {peak:.0f} MB per process)")

    asked = json.loads(
        subprocess.run(
            [*python, "ask", str(data_dir), str(questions)], env=env, check=True, capture_output=True, text=True
        ).stdout.splitlines()[-1]
    )
    print(
        f"ask-the-article: p50 {asked['p50_ms']:.0f} ms, p95 {asked['p95_ms']:.0f} ms over {asked['n']} questions "
        f"(sentences embedded per question; {asked['answered']} answered)"
    )
    return {
        "articles": len(items),
        "processes": processes,
        "articles_per_s": round(enrich_rate, 1),
        "embedding_only_per_s": round(embed_rate, 1),
        "ask_p50_ms": round(asked["p50_ms"], 1),
        "ask_p95_ms": round(asked["p95_ms"], 1),
        "peak_rss_mb": round(peak, 1),
    }


def _parallel(python: list[str], step: str, data_dir: Path, processes: int, env: dict) -> list[dict]:
    children = [
        subprocess.Popen(
            [*python, step, str(data_dir), str(n), str(processes)], env=env, stdout=subprocess.PIPE, text=True
        )
        for n in range(processes)
    ]
    outputs = [child.communicate()[0] for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError(f"enrichment benchmark child failed: {outputs}")
    return [json.loads(out.splitlines()[-1]) for out in outputs]


# --- Child processes (Django set up from the environment) ----------------------------------


def _store(data_dir: Path) -> None:
    from django.utils import timezone

    from newsdesk.articles.models import Article
    from newsdesk.sources.models import Source

    items = json.loads((data_dir / "articles.json").read_text())
    source = Source.objects.create(name="BBC News", slug="bbc", home_url="https://www.bbc.co.uk/", language="en")
    Article.objects.bulk_create(
        Article(
            source=source,
            url=f"https://www.bbc.co.uk/news/{n}",
            title=title,
            body_text="\n\n".join(paras),
            language="en",
            word_count=sum(len(p.split()) for p in paras),
            content_hash=str(n),
            published_at=timezone.now(),
        )
        for n, (title, paras) in enumerate(items)
    )


def _my_ids(part: int, parts: int) -> list[int]:
    from newsdesk.articles.models import Article

    ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    return ids[part::parts]


def _embed(part: int, parts: int) -> dict:
    from newsdesk.ai.embeddings import embed, get_model
    from newsdesk.articles.models import Article
    from newsdesk.pipeline.enrich import embedding_text

    get_model()
    texts = [embedding_text(a) for a in Article.objects.filter(pk__in=_my_ids(part, parts))]
    started = time.perf_counter()
    for n in range(0, len(texts), 32):
        embed(texts[n : n + 32])
    return {"articles": len(texts), "seconds": time.perf_counter() - started}


def _enrich(part: int, parts: int) -> dict:
    from newsdesk.pipeline.enrich import enrich_articles, warm_up

    warm_up()
    ids = _my_ids(part, parts)
    started = time.perf_counter()
    done = enrich_articles(ids)
    return {"articles": done, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb(os.getpid())}


def _ask(count: int) -> dict:
    import re

    from newsdesk.ai.ask import ask, sentence_vectors
    from newsdesk.ai.embeddings import get_model
    from newsdesk.articles.models import Article

    get_model()
    rng = random.Random(7)
    articles = list(Article.objects.order_by("pk"))
    timings, answered = [], 0
    for n in range(count):
        article = articles[n % len(articles)]
        names = re.findall(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", article.body_text) or ["the government"]
        question = rng.choice(QUESTIONS).format(name=rng.choice(names))
        started = time.perf_counter()
        answer = ask(question, article.title, article.body_text, sentence_vectors=sentence_vectors(article.body_text))
        timings.append((time.perf_counter() - started) * 1000)
        answered += answer.answered
    timings.sort()
    return {
        "n": count,
        "answered": answered,
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * (len(timings) - 1))],
    }


if __name__ == "__main__":
    import django

    django.setup()
    step, folder = sys.argv[1], Path(sys.argv[2])
    if step == "store":
        _store(folder)
        result: dict = {}
    elif step == "embed":
        result = _embed(int(sys.argv[3]), int(sys.argv[4]))
    elif step == "enrich":
        result = _enrich(int(sys.argv[3]), int(sys.argv[4]))
    else:
        result = _ask(int(sys.argv[3]))
    print(json.dumps(result))
