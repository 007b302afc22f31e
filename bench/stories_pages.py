"""Stories measured on real pages (../shared/BENCHMARKS.md, task stories-pages).

    newsdesk bench predict stories-pages ../shared/corpora/extraction stories-pages.json
    python3 ../shared/eval/score.py stories-pages ../shared/corpora/extraction stories-pages.json

The UCI `stories` task feeds clean headlines to the clusterer; readers see stories built
from pages. So this one runs the production path, as `newsdesk add PAGE-URL` and the
workers do: each page's HTML goes through `ingest.store_page` (extraction, the page's
own publication date, its URL's host as the publisher), then through every stage of
`pipeline.chain` (enrichment, folding of copies, story placement), one page at a time
in publication order, in a scratch database of its own. It reads `html/` and each page's
`url` from `ground-truth.json`, never `articleBody` or `events.json`. A page's label is
its story; a page folded as a copy is in its original's story.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def predict_stories_pages(input_path: Path, output_path: Path) -> dict:
    """Run the pages in a child process on a scratch data directory; returns the summary."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-stories-pages-") as scratch:
        env = {
            **os.environ,
            "NEWSDESK_DATA_DIR": scratch,
            "NEWSDESK_DEFAULT_SOURCES": "0",
            "NEWSDESK_IMAGES": "0",  # the pages' pictures are on the publishers' sites: no fetching here
            "NEWSDESK_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
        }
        env.pop("DATABASE_URL", None)
        env.pop("NEWSDESK_LLM_URL", None)
        subprocess.run([sys.executable, "-m", "newsdesk", "migrate", "--verbosity", "0"], env=env, check=True)
        summary = Path(scratch) / "summary.json"
        command = [sys.executable, "-m", "bench.stories_pages", str(input_path), str(output_path), str(summary)]
        subprocess.run(command, env=env, check=True)
        return json.loads(summary.read_text())


def pages(folder: Path) -> list[tuple[str, str, bytes]]:
    """(key, url, html bytes) of every page: the only fields this task may read."""
    truth = json.loads((folder / "ground-truth.json").read_text())
    return [
        (key, item["url"], gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()))
        for key, item in sorted(truth.items())
    ]


def _run(folder: Path, output: Path, summary: Path) -> None:
    import django

    django.setup()
    from newsdesk.extract import ExtractionError, extract
    from newsdesk.pipeline import chain
    from newsdesk.pipeline.add import AddError, add_page
    from newsdesk.sources.http import FetchResult
    from newsdesk.stories.models import StoryMember

    started = time.perf_counter()
    dated = []  # extracted once more here for the order only: store_page extracts as in production
    for key, url, html in pages(folder):
        try:
            published = extract(html, url).published
        except ExtractionError:
            published = None
        dated.append((published or datetime.max.replace(tzinfo=UTC), key, url, html))
    dated.sort(key=lambda page: (page[0], page[1]))  # publication order; undated pages last

    article_of: dict[str, int] = {}
    failed = 0
    for _, key, url, html in dated:
        result = FetchResult(url, url, 200, {"content-type": "text/html"}, html, None, None, 0.0)
        try:
            article = add_page(result).article
        except AddError:
            failed += 1
            continue
        assert article is not None
        article_of[key] = article.pk
        chain.run([article.pk])

    # Placement puts a copy in its original's story and moves the members of a merged
    # story to the one it joined, so membership is the answer.
    story_of = dict(StoryMember.objects.values_list("article_id", "story_id"))
    labels = {key: f"story-{story_of[pk]}" if pk in story_of else f"alone-{pk}" for key, pk in article_of.items()}
    for _, key, _, _ in dated:
        labels.setdefault(key, f"unstored-{key}")
    output.write_text(json.dumps(labels, indent=1))
    summary.write_text(
        json.dumps(
            {
                "pages": len(labels),
                "stored": len(article_of),
                "not_stored": failed,
                "stories": len(set(labels.values())),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    _run(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
