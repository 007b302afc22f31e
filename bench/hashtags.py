"""Prediction harness for the hashtags benchmark (500N-KPCrowd keyphrases).

Reads only `INPUT/DOC.txt` (first line headline, then the text), never the keys, and
writes `{"DOC": [phrase, ...]}` ranked best first, as `../shared/eval/score.py
hashtags` expects.

    python -m bench.hashtags ../shared/corpora/keyphrases/kpcrowd/docs OUT.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from newsdesk.ai.keyphrases import keyphrases
from newsdesk.ai.tokens import tokenize

MIN_PHRASES = 10


def _docs_dir(input_dir: Path) -> Path:
    """Accept the corpus folder or its `docs/` folder."""
    return input_dir / "docs" if (input_dir / "docs").is_dir() else input_dir


def predict_hashtags(input_dir: Path, output: Path, *, limit: int = 20) -> dict:
    docs = sorted(_docs_dir(Path(input_dir)).glob("*.txt"))
    predictions: dict[str, list[str]] = {}
    started = time.perf_counter()
    for path in docs:
        raw = path.read_text(encoding="utf-8", errors="replace")
        title, _, text = raw.partition("\n")
        phrases = keyphrases(title, text, limit=max(limit, MIN_PHRASES))
        predictions[path.stem] = _pad(phrases, title, text)
    elapsed = time.perf_counter() - started
    Path(output).write_text(json.dumps(predictions, ensure_ascii=False, indent=1), encoding="utf-8")
    return {
        "docs": len(docs),
        "seconds": round(elapsed, 3),
        "docs_per_s": round(len(docs) / elapsed, 1) if elapsed else None,
    }


def _pad(phrases: list[str], title: str, text: str) -> list[str]:
    """Headline-only documents have fewer than ten candidates; the contract asks for
    ten, so their remaining words follow, in order, as a last resort."""
    if len(phrases) >= MIN_PHRASES:
        return phrases
    seen = {p.lower() for p in phrases}
    for token in tokenize(f"{title}\n{text}"):
        if token.kind != "punct" and token.lower not in seen:
            seen.add(token.lower)
            phrases.append(token.text)
            if len(phrases) >= MIN_PHRASES:
                break
    return phrases


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    print(json.dumps(predict_hashtags(Path(args[0]), Path(args[1]))))


if __name__ == "__main__":
    main()
