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
its story (after merges); a page that is folded as a copy takes its original's story.
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
    from newsdesk.pipeline.add import AddError, _add_article
    from newsdesk.sources.http import FetchResult
    from newsdesk.stories.models import StoryMember

    started = time.perf_counter()
    dated = []
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
            article = _add_article(result, None).article
        except AddError:
            failed += 1
            continue
        assert article is not None
        article_of[key] = article.pk
        chain.run([article.pk])

    story_of = _stories(StoryMember, set(article_of.values()))
    # A page folded as a copy of another article is in that article's story.
    labels = {key: f"story-{story_of[pk]}" if pk in story_of else f"alone-{pk}" for key, pk in article_of.items()}
    for key, _, _ in pages(folder):
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


def _stories(member_model, article_ids: set[int]) -> dict[int, int]:
    """Article id -> the story it ends up in, following merged stories to the survivor."""
    from newsdesk.stories.models import NearDuplicate, Story

    story_of: dict[int, int] = {}
    for article_id, story_id in member_model.objects.values_list("article_id", "story_id"):
        story_of[article_id] = story_id
    for copy_id, original_id in NearDuplicate.objects.values_list("article_id", "original_id"):
        if copy_id not in story_of and original_id in story_of:
            story_of[copy_id] = story_of[original_id]
    merged = dict(Story.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into_id"))
    for article_id, story_id in story_of.items():
        while story_id in merged:
            story_id = merged[story_id]
        story_of[article_id] = story_id
    return {pk: story for pk, story in story_of.items() if pk in article_ids}


if __name__ == "__main__":
    _run(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
