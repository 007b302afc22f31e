"""Benchmark of article sections (newsdesk.ai.sections) on a folder of news articles.

    python -m bench.categories predict ARTICLES_DIR OUT.json

ARTICLES_DIR holds FOLDER/N.txt files whose first line is the headline (the BBC News
Summary layout). Each file is classified from its own text only: the folder names are
the gold labels in that corpus, so they are used for nothing but the output keys
"FOLDER/N", and a sibling summaries/ folder is never opened. The run mirrors the
enrichment pipeline: one MiniLM embedding per article (title + body), then classify()
with that vector. The files carry no URL and no publisher section labels, so this
measures the text alone (the publisher's filing, section_hints.py, is not there to help).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from newsdesk.ai import sections


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # old corpora mix in the odd cp1252 file
        return data.decode("cp1252", errors="replace")


def _articles(input_dir: Path) -> list[tuple[str, str, str]]:
    """(key, title, body) for every FOLDER/N.txt, in a stable order."""
    base = Path(input_dir)
    if (base / "articles").is_dir():  # the corpus root was given: read articles/ only
        base = base / "articles"
    out = []
    for path in sorted(base.glob("*/*.txt")):
        title, _, body = _read(path).strip().partition("\n")
        out.append((f"{path.parent.name}/{path.stem}", title.strip(), body.strip()))
    return out


def predict_categories(input_dir: Path, output: Path) -> dict:
    """Write {"FOLDER/N": section} for every article; return timings."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from newsdesk.ai.embeddings import embed, get_model

    articles = _articles(input_dir)
    if not articles:
        raise ValueError(f"no FOLDER/N.txt files under {input_dir}")
    get_model()
    sections.classify("warm-up", "warm-up", vector=embed(["warm-up"])[0])
    started = time.perf_counter()
    vectors = embed([f"{title}\n\n{body}" for _, title, body in articles])
    embedded = time.perf_counter()
    predictions: dict[str, str] = {}
    for (key, title, body), vector in zip(articles, vectors):
        predictions[key] = sections.classify(title, body, vector=vector).section
    done = time.perf_counter()
    Path(output).write_text(json.dumps(predictions, indent=0), encoding="utf-8")
    classify_seconds = done - embedded
    total_seconds = done - started
    return {
        "task": "categories",
        "articles": len(predictions),
        "classify_ms_per_doc": round(1000 * classify_seconds / len(predictions), 3),
        "classify_docs_per_s": round(len(predictions) / classify_seconds, 1),
        "docs_per_s_with_embedding": round(len(predictions) / total_seconds, 1),
        "output": str(output),
    }


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "predict":
        # Run as a script: the embedding model's settings come from newsdesk.settings.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
        import django

        django.setup()
        result = predict_categories(Path(argv[1]), Path(argv[2]))
        print(json.dumps(result))
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
