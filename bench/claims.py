"""`newsdesk bench claims`: precision and recall of "same claim" and "conflicting figures".

The labelled pairs (bench/data/claims-labels.json) are references into ../shared/corpora:
a UCI headline by its ID, or an extraction page's sentence by page key, sentence index
(newsdesk.ai.sentences) and the first hex digits of the sentence's SHA-1, so no corpus
text is in the repository. Each side is read from the corpus at run time; a sentence
whose hash no longer matches is counted as unresolved and left out. Both sides go through
the same extraction and `relate` as a story's alignment: a pair is predicted "same" when
some figure or quotation of one side is the same claim as one of the other, "conflict"
when some pair of them conflicts. Without the corpora the benchmark says so and skips.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from pathlib import Path

from bench import SHARED

LABELS = Path(__file__).resolve().parent / "data" / "claims-labels.json"


def add_arguments(parser) -> None:
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared (with corpora/)")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--show-mistakes", type=int, default=0, help="print the first N mislabelled pairs")


def _sentences(shared: Path) -> tuple[dict[str, str], dict[str, str]]:
    """UCI headlines by ID and extraction bodies by page key."""
    with open(shared / "corpora" / "stories" / "uci-headlines.csv", newline="", encoding="utf-8") as handle:
        headlines = {row["ID"]: row["TITLE"] for row in csv.DictReader(handle)}
    truth = json.loads((shared / "corpora" / "extraction" / "ground-truth.json").read_text(encoding="utf-8"))
    return headlines, {key: page.get("articleBody", "") for key, page in truth.items()}


def _resolve(ref: dict, headlines: dict[str, str], bodies: dict[str, str], split) -> str | None:
    if ref["corpus"] == "uci":
        return headlines.get(ref["id"])
    sentences = split(bodies.get(ref["page"], ""))
    if ref["sentence"] >= len(sentences):
        return None
    text = sentences[ref["sentence"]].text
    return text if hashlib.sha1(text.encode()).hexdigest()[: len(ref["sha1"])] == ref["sha1"] else None


def _score(pairs: list[tuple[bool, bool]]) -> dict:
    tp = sum(1 for label, guess in pairs if label and guess)
    fp = sum(1 for label, guess in pairs if guess and not label)
    fn = sum(1 for label, guess in pairs if label and not guess)
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }


def run(*, shared: Path = SHARED, labels: Path = LABELS, show_mistakes: int = 0, **_ignored) -> dict:
    if not (Path(shared) / "corpora" / "extraction" / "ground-truth.json").exists():
        print(f"skipped: no corpora under {shared} (../shared beside the checkout)")
        return {"skipped": True, "reason": f"no corpora under {shared}"}
    import django

    django.setup()
    from newsdesk.ai import embeddings
    from newsdesk.ai.claim_alignment import facts_of, relate
    from newsdesk.ai.claims import extract_claims, sentence_entities
    from newsdesk.ai.sentences import split_sentences

    data = json.loads(Path(labels).read_text(encoding="utf-8"))
    headlines, bodies = _sentences(Path(shared))
    resolved = []
    unresolved = 0
    for pair in data["pairs"]:
        a = _resolve(pair["a"], headlines, bodies, split_sentences)
        b = _resolve(pair["b"], headlines, bodies, split_sentences)
        if a is None or b is None:
            unresolved += 1
            continue
        resolved.append((pair, a, b))
    texts = sorted({t for _, a, b in resolved for t in (a, b)})
    began = time.perf_counter()
    vectors = dict(zip(texts, embeddings.embed(texts), strict=True))
    embed_s = time.perf_counter() - began
    began = time.perf_counter()
    claims = {t: extract_claims(t, "", names=sentence_entities(t, "")) for t in texts}
    extract_s = time.perf_counter() - began

    same_pairs, conflict_pairs = [], []
    by_part: dict[str, list[tuple[bool, bool, bool, bool]]] = {}
    mistakes = []
    for n, (pair, a, b) in enumerate(resolved):
        facts_a = [
            f
            for i, c in enumerate(claims[a])
            for f in facts_of(c, i, article=1, source=1, published=0, vector=vectors[a])
        ]
        facts_b = [
            f
            for i, c in enumerate(claims[b])
            for f in facts_of(c, i, article=2, source=2, published=0, vector=vectors[b])
        ]
        cosine = float(vectors[a] @ vectors[b])
        relations = {relate(x, y, cosine) for x in facts_a for y in facts_b}
        same, conflict = "same" in relations, "conflict" in relations
        same_pairs.append((pair["same"], same))
        conflict_pairs.append((pair["conflict"], conflict))
        part = pair["a"]["corpus"]
        by_part.setdefault(part, []).append((pair["same"], same, pair["conflict"], conflict))
        if same != pair["same"] or conflict != pair["conflict"]:
            mistakes.append((n, pair["same"], same, pair["conflict"], conflict, round(cosine, 2)))
    result = {
        "pairs": len(resolved),
        "unresolved": unresolved,
        "labelled_same": sum(1 for p, _, _ in resolved if p["same"]),
        "labelled_conflicts": sum(1 for p, _, _ in resolved if p["conflict"]),
        "same_claim": _score(same_pairs),
        "conflicting_figures": _score(conflict_pairs),
        "by_corpus": {
            part: {
                "pairs": len(rows),
                "same_claim": _score([(r[0], r[1]) for r in rows]),
                "conflicting_figures": _score([(r[2], r[3]) for r in rows]),
            }
            for part, rows in sorted(by_part.items())
        },
        "extract_ms_per_sentence": round(1000 * extract_s / max(1, len(texts)), 3),
        "embed_ms_per_sentence": round(1000 * embed_s / max(1, len(texts)), 3),
    }
    print(f"{'pairs':28} {result['pairs']:6d}  (unresolved {unresolved})")
    for name in ("same_claim", "conflicting_figures"):
        s = result[name]
        print(
            f"{name:28} precision {s['precision']}  recall {s['recall']}  (tp {s['true_positives']}, fp {s['false_positives']}, fn {s['false_negatives']})"
        )
    for n, want_same, got_same, want_conflict, got_conflict, cosine in mistakes[:show_mistakes]:
        pair, a, b = resolved[n]
        print(
            f"  #{n} same {want_same}->{got_same} conflict {want_conflict}->{got_conflict} cos {cosine}\n    A {a[:160]}\n    B {b[:160]}"
        )
    return result
