"""Summaries benchmark: predictions on the BBC News Summary articles for
../shared/eval/score.py, and the speed of summarize().

    python -m bench.summaries INPUT_DIR OUT.json

INPUT_DIR holds CATEGORY/N.txt (first line the headline). Only each file's own text is
read: the folder names are the gold sections and the reference summaries sit beside the
articles, so a predictor that looked at either would be cheating.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from newsdesk.ai.summary import VERSION, summarize


def read_article(path: Path) -> tuple[str, str]:
    """(headline, body) of one corpus file; one file in the corpus is not UTF-8."""
    data = path.read_bytes()
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raw = data.decode("cp1252", errors="replace")
    title, _, body = raw.strip().partition("\n")
    return title.strip(), body.strip()


def predict_summaries(input_dir: Path, output: Path) -> dict:
    """Write {"CATEGORY/N": summary} for every article file under input_dir."""
    input_dir = Path(input_dir)
    files = sorted(input_dir.glob("*/*.txt"))
    articles = {f"{p.parent.name}/{p.stem}": read_article(p) for p in files}
    predictions: dict[str, str] = {}
    timings: list[float] = []
    for key, (title, body) in articles.items():
        started = time.perf_counter()
        predictions[key] = summarize(title, body).summary
        timings.append(time.perf_counter() - started)
    Path(output).write_text(json.dumps(predictions, ensure_ascii=False, indent=0), encoding="utf-8")
    total = sum(timings)
    result = {
        "task": "summaries",
        "method": VERSION,
        "articles": len(predictions),
        "docs_per_s": round(len(timings) / total, 1) if total else 0.0,
        "ms_per_doc_p50": round(statistics.median(timings) * 1000, 3) if timings else 0.0,
        "output": str(output),
    }
    print(
        f"{len(predictions)} summaries written to {output}; "
        f"{result['docs_per_s']} articles/s on one core (summarize() only)",
        file=sys.stderr,
    )
    return result


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        raise SystemExit(2)
    print(json.dumps(predict_summaries(Path(args[0]), Path(args[1]))))


if __name__ == "__main__":
    main()
