"""`newsdesk bench claims`: precision and recall of "same claim" and "conflicting figures".

The labelled pairs are references into ../shared/corpora: a UCI headline by its ID, or an
extraction page's sentence by page key, sentence index (newsdesk.ai.sentences) and the
first hex digits of the sentence's SHA-1, so no corpus text is in the repository. Each
side is read from the corpus at run time; a sentence whose hash no longer matches is
counted as unresolved and left out. Both sides go through the same extraction and
`relate` as a story's alignment: a pair is predicted "same" when some figure or quotation
of one side is the same claim as one of the other, "conflict" when some pair of them
conflicts. Without the corpora the benchmark says so and skips.

Two sets, scored apart. bench/data/claims-labels.json is the set the rules were written
against (each sentence extracted on its own, as before). bench/data/claims-labels-heldout.json
was drawn and labelled after the rules were frozen (see its "about"), so its conflict
figures are the ones to quote; it is scored as the site runs: a page's sentence keeps its
index in the article (conflicts only among the first sentences) and the entities found
over the whole article. Its conflict precision and recall carry Wilson 95% intervals,
because real conflicts are few.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
from pathlib import Path

from bench import SHARED

LABELS = Path(__file__).resolve().parent / "data" / "claims-labels.json"
HELDOUT = Path(__file__).resolve().parent / "data" / "claims-labels-heldout.json"
HELDOUT_LABELS = ("conflict", "same", "different", "ambiguous")


def add_arguments(parser) -> None:
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared (with corpora/)")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--heldout", type=Path, default=HELDOUT, help="held-out pairs (labelled after the rules froze)")
    parser.add_argument("--show-mistakes", type=int, default=0, help="print the first N mislabelled pairs of each set")


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


def wilson(successes: int, total: int, z: float = 1.96) -> list[float] | None:
    """Wilson score interval of a proportion (95% by default): honest with few trials and
    with 0 or all successes, where the normal approximation gives nonsense."""
    if total == 0:
        return None
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return [round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)]


def _score(pairs: list[tuple[bool, bool]], *, intervals: bool = False) -> dict:
    tp = sum(1 for label, guess in pairs if label and guess)
    fp = sum(1 for label, guess in pairs if guess and not label)
    fn = sum(1 for label, guess in pairs if label and not guess)
    out = {
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }
    if intervals:
        out["precision_wilson95"] = wilson(tp, tp + fp)
        out["recall_wilson95"] = wilson(tp, tp + fn)
    return out


def _relations(facts_a: list, facts_b: list, cosine: float, relate) -> set[str | None]:
    return {relate(x, y, cosine) for x in facts_a for y in facts_b}


def run(
    *,
    shared: Path = SHARED,
    labels: Path = LABELS,
    heldout: Path | None = HELDOUT,
    show_mistakes: int = 0,
    **_ignored,
) -> dict:
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
    held = json.loads(Path(heldout).read_text(encoding="utf-8")) if heldout and Path(heldout).exists() else None
    headlines, bodies = _sentences(Path(shared))

    def resolve_all(pairs: list[dict]) -> tuple[list[tuple[dict, str, str]], int]:
        out, missing = [], 0
        for pair in pairs:
            a = _resolve(pair["a"], headlines, bodies, split_sentences)
            b = _resolve(pair["b"], headlines, bodies, split_sentences)
            if a is None or b is None:
                missing += 1
            else:
                out.append((pair, a, b))
        return out, missing

    resolved, unresolved = resolve_all(data["pairs"])
    held_resolved, held_unresolved = resolve_all(held["pairs"]) if held else ([], 0)
    texts = sorted({t for rows in (resolved, held_resolved) for _, a, b in rows for t in (a, b)})
    began = time.perf_counter()
    vectors = dict(zip(texts, embeddings.embed(texts), strict=True))
    embed_s = time.perf_counter() - began
    began = time.perf_counter()
    claims = {t: extract_claims(t, "", names=sentence_entities(t, "")) for t in texts}
    extract_s = time.perf_counter() - began

    def facts(claim_list, text: str, side: int) -> list:
        return [
            f
            for i, c in enumerate(claim_list)
            for f in facts_of(c, i, article=side, source=side, published=0, vector=vectors[text])
        ]

    same_pairs, conflict_pairs = [], []
    by_part: dict[str, list[tuple[bool, bool, bool, bool]]] = {}
    mistakes = []
    for n, (pair, a, b) in enumerate(resolved):
        cosine = float(vectors[a] @ vectors[b])
        relations = _relations(facts(claims[a], a, 1), facts(claims[b], b, 2), cosine, relate)
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
    print(
        f"first set (the rules were written against it)\n{'pairs':28} {result['pairs']:6d}  (unresolved {unresolved})"
    )
    _print_scores(result["same_claim"], result["conflicting_figures"])
    for n, want_same, got_same, want_conflict, got_conflict, cosine in mistakes[:show_mistakes]:
        pair, a, b = resolved[n]
        print(
            f"  #{n} same {want_same}->{got_same} conflict {want_conflict}->{got_conflict} cos {cosine}\n    A {a[:160]}\n    B {b[:160]}"
        )
    if held is not None:
        in_article = _article_claims(held_resolved, bodies, extract_claims, sentence_entities)
        result.update(
            _score_heldout(held_resolved, held_unresolved, claims, in_article, vectors, facts, relate, show_mistakes)
        )
    return result


def _article_claims(rows, bodies, extract_claims, sentence_entities) -> dict[tuple[str, int], list]:
    """Claims of each cited page sentence as the site extracts them: over the whole page,
    so the sentence keeps its index (the lead rule) and the article's entities."""
    out: dict[tuple[str, int], list] = {}
    for page in sorted({r["page"] for pair, _, _ in rows for r in (pair["a"], pair["b"]) if r["corpus"] != "uci"}):
        body = bodies[page]
        for claim in extract_claims("", body, names=sentence_entities("", body)):
            out.setdefault((page, claim.sentence), []).append(claim)
    return out


def _score_heldout(rows, unresolved, claims, in_article, vectors, facts, relate, show_mistakes) -> dict:
    scored = [(pair, a, b) for pair, a, b in rows if pair["label"] != "ambiguous"]
    modes: dict[str, dict[str, list[tuple[bool, bool]]]] = {"article": {}, "alone": {}}
    near_flags, mistakes = [], []
    by_stratum: dict[str, list[tuple[bool, bool]]] = {}
    for pair, a, b in scored:
        cosine = float(vectors[a] @ vectors[b])
        want_same, want_conflict = pair["label"] == "same", pair["label"] == "conflict"
        for mode in modes:
            sides = []
            for side, (ref, text) in enumerate(((pair["a"], a), (pair["b"], b)), start=1):
                if mode == "article" and ref["corpus"] != "uci":
                    found = in_article.get((ref["page"], ref["sentence"]), [])
                else:
                    found = claims[text]
                sides.append(facts(found, text, side))
            relations = _relations(sides[0], sides[1], cosine, relate)
            got_same, got_conflict = "same" in relations, "conflict" in relations
            modes[mode].setdefault("same", []).append((want_same, got_same))
            modes[mode].setdefault("conflict", []).append((want_conflict, got_conflict))
            if mode == "article":
                by_stratum.setdefault(pair["stratum"], []).append((want_conflict, got_conflict))
                if pair.get("near"):
                    near_flags.append(got_conflict)
                if want_conflict != got_conflict or (want_same != got_same and not want_conflict):
                    mistakes.append((pair, a, b, got_same, got_conflict, round(cosine, 2)))
    labelled = [pair for pair, _, _ in scored]
    conflicts = _score(modes["article"].get("conflict", []), intervals=True)
    out = {
        "heldout_pairs": len(rows),
        "heldout_unresolved": unresolved,
        "heldout_ambiguous": len(rows) - len(scored),
        "heldout_scored": len(scored),
        "heldout_labelled_conflicts": sum(1 for p in labelled if p["label"] == "conflict"),
        "heldout_labelled_conflict_stories": len({p["group"] for p in labelled if p["label"] == "conflict"}),
        "heldout_labelled_same": sum(1 for p in labelled if p["label"] == "same"),
        "heldout_labelled_near": sum(1 for p in labelled if p.get("near")),
        "heldout_same_claim": _score(modes["article"].get("same", [])),
        "heldout_conflicting_figures": conflicts,
        "heldout_conflicts_on_near": sum(near_flags),
        "heldout_conflicting_figures_by_stratum": {s: _score(r) for s, r in sorted(by_stratum.items())},
        "heldout_sentence_alone_conflicting_figures": _score(modes["alone"].get("conflict", [])),
    }
    print(
        f"held-out set (labelled after the rules froze; scored as the site runs)\n"
        f"{'pairs':28} {len(rows):6d}  (unresolved {unresolved}, ambiguous {out['heldout_ambiguous']}, "
        f"conflicts {out['heldout_labelled_conflicts']} in {out['heldout_labelled_conflict_stories']} stories, "
        f"near-conflicts {out['heldout_labelled_near']})"
    )
    _print_scores(out["heldout_same_claim"], conflicts)
    print(
        f"{'':28} conflict precision 95% {conflicts['precision_wilson95']}, recall 95% {conflicts['recall_wilson95']}; "
        f"near-conflicts called conflicts: {out['heldout_conflicts_on_near']}"
    )
    for pair, a, b, got_same, got_conflict, cosine in mistakes[:show_mistakes]:
        print(
            f"  {pair['stratum']} {pair['label']} -> same {got_same} conflict {got_conflict} cos {cosine} {pair.get('why', '')}\n"
            f"    A {a[:160]}\n    B {b[:160]}"
        )
    return out


def _print_scores(same: dict, conflict: dict) -> None:
    for name, s in (("same_claim", same), ("conflicting_figures", conflict)):
        print(
            f"{name:28} precision {s['precision']}  recall {s['recall']}  (tp {s['true_positives']}, fp {s['false_positives']}, fn {s['false_negatives']})"
        )
