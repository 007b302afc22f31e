"""Benchmarks of the extract stage: quality on the article-extraction corpus, and speed
side by side with plain trafilatura.

    python -m bench.extraction predict DIR OUT.json
    python -m bench.extraction speed DIR [PASSES]

DIR holds html/ID.html.gz (gzip, utf-8) and, optionally, ground-truth.json, of which
only each page's `url` is read: the real pipeline knows the URL it fetched.
"""

from __future__ import annotations

import gc
import gzip
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from newsdesk.extract import ExtractionError, extract


def _page_ids(input_dir: Path) -> list[tuple[str, Path]]:
    files = sorted((Path(input_dir) / "html").glob("*.html.gz"))
    return [(path.name[: -len(".html.gz")], path) for path in files]


def _urls(input_dir: Path) -> dict[str, str | None]:
    truth = Path(input_dir) / "ground-truth.json"
    if not truth.is_file():
        return {}
    data = json.loads(truth.read_text(encoding="utf-8"))
    return {key: value.get("url") for key, value in data.items() if isinstance(value, dict)}


def _load_pages(input_dir: Path) -> list[tuple[str, str, str | None]]:
    urls = _urls(input_dir)
    return [
        (
            page_id,
            gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace"),
            urls.get(page_id),
        )
        for page_id, path in _page_ids(input_dir)
    ]


def predict_extraction(input_dir: Path, output: Path) -> dict:
    """Write {"ID": {"articleBody": text}} for every page; a page we cannot extract
    gets an empty body (the scorer counts it as a miss)."""
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    predictions: dict[str, dict[str, str]] = {}
    failures = 0
    started = time.perf_counter()
    for page_id, html, url in _load_pages(input_dir):
        try:
            body = extract(html, url).body_text
        except ExtractionError:
            body, failures = "", failures + 1
        predictions[page_id] = {"articleBody": body}
    elapsed = time.perf_counter() - started
    Path(output).write_text(json.dumps(predictions, ensure_ascii=False), encoding="utf-8")
    return {
        "task": "extraction",
        "pages": len(predictions),
        "empty": failures,
        "seconds": round(elapsed, 2),
        "output": str(output),
    }


def _time_pass(pages: list[tuple[str, str, str | None]], run: Callable[[str, str | None], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    for _, html, url in pages:
        try:
            run(html, url)
        except ExtractionError:
            pass
    return time.perf_counter() - started


def _ours(html: str, url: str | None) -> object:
    return extract(html, url)


def _trafilatura(html: str, url: str | None) -> object:
    import trafilatura

    return trafilatura.extract(html, include_comments=False)


def extraction_speed(input_dir: Path, passes: int = 3) -> dict:
    """Pages per second of extract() against trafilatura.extract(), on one core, in one
    process, alternating passes, best of `passes` each."""
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    pages = _load_pages(input_dir)
    if not pages:
        raise ValueError(f"no pages under {Path(input_dir) / 'html'}")
    previous = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if previous:
        os.sched_setaffinity(0, {min(previous)})
    try:
        # warm-up: imports, caches, compiled expressions
        for run in (_trafilatura, _ours):
            _time_pass(pages[:5], run)
        best = {"ours": float("inf"), "trafilatura": float("inf")}
        for number in range(1, passes + 1):
            for name, run in (("trafilatura", _trafilatura), ("ours", _ours)):
                seconds = _time_pass(pages, run)
                best[name] = min(best[name], seconds)
                rate = len(pages) / seconds
                print(f"pass {number}: {name:12s} {seconds:6.2f} s  {rate:6.1f} pages/s")
    finally:
        if previous:
            os.sched_setaffinity(0, previous)
    ours = len(pages) / best["ours"]
    theirs = len(pages) / best["trafilatura"]
    print(f"best of {passes}: ours {ours:.1f} pages/s, trafilatura {theirs:.1f} pages/s, ratio {ours / theirs:.3f}")
    return {
        "pages": len(pages),
        "pages_per_s": round(ours, 2),
        "trafilatura_pages_per_s": round(theirs, 2),
        "ratio": round(ours / theirs, 3),
        "passes": passes,
    }


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "predict":
        result = predict_extraction(Path(argv[1]), Path(argv[2]))
    elif len(argv) >= 2 and argv[0] == "speed":
        result = extraction_speed(Path(argv[1]), int(argv[2]) if len(argv) > 2 else 3)
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
