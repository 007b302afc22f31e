"""The held-out claim pairs of `newsdesk bench claims` (issue 17, "Quality and speed").

The held-out file is read and scored apart from the first set: a tiny labelled file of
real corpus references (a conflict the rules find, one the frozen rules missed and the
fixed rules find, a near-conflict the frozen rules wrongly flagged, two same claims of which one is a page sentence scored in its article, an
ambiguous pair) gives known counts. Needs ../shared; skips cleanly without it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import SHARED
from bench import claims as bench_claims

NEEDS_SHARED = pytest.mark.skipif(
    not (SHARED / "corpora" / "extraction" / "ground-truth.json").is_file(), reason="needs ../shared corpora"
)

KEIBLER = "u:dhkRgwm8w7ydmEMc5T-ETIrrC4TAM"
UNICREDIT = "u:dMggeOeT5e8qzgMn32oo6QbOpKp1M"
HOME_DEPOT = "e:home-depot-q3-earnings"
TINY = [
    # relationship length 7 / 6 months: a conflict the rules flag
    {"group": KEIBLER, "stratum": "flagged", "a": {"corpus": "uci", "id": "20ffed77f1b0"},
     "b": {"corpus": "uci", "id": "7d1b6400857c"}, "label": "conflict"},
    # the same conflict in a Title Case headline: missed by the frozen rules, found since align-3 (names by a part)
    {"group": KEIBLER, "stratum": "differ-close", "a": {"corpus": "uci", "id": "7d1b6400857c"},
     "b": {"corpus": "uci", "id": "d56d7db474d6"}, "label": "conflict"},
    # Q4 loss / the year's loss: flagged wrongly by the frozen rules, not since align-3 (a period on one side only)
    {"group": UNICREDIT, "stratum": "flagged", "a": {"corpus": "uci", "id": "3aa5a514bb24"},
     "b": {"corpus": "uci", "id": "9829cad509ed"}, "label": "different", "near": True},
    {"group": "u:do6Vg-oWU1TOTeMhVmlSXEHyzSaoM", "stratum": "differ-close", "a": {"corpus": "uci", "id": "57e508a37ab8"},
     "b": {"corpus": "uci", "id": "7d01f4e63850"}, "label": "same"},
    # the analysts' expected EPS in two pages' sentences
    {"group": HOME_DEPOT, "stratum": "differ-close",
     "a": {"corpus": "extraction", "page": "51374560f40088e227f0053ff1bb0b8525d10a8d7bfbff1cd6033f42347fd85b",
           "sentence": 8, "sha1": "6288d63c36"},
     "b": {"corpus": "extraction", "page": "f8ff621a0b9b7646cc0d57d37416feabba2bf78ef5dd0bfc5b080f9f97bbe584",
           "sentence": 4, "sha1": "8061d28d85"}, "label": "same"},
    {"group": UNICREDIT, "stratum": "flagged", "a": {"corpus": "uci", "id": "0d80012be294"},
     "b": {"corpus": "uci", "id": "42f6720235cf"}, "label": "ambiguous", "near": True},
]  # fmt: skip


def test_wilson_interval():
    assert bench_claims.wilson(3, 10) == [0.108, 0.603]
    assert bench_claims.wilson(0, 0) is None
    low, high = bench_claims.wilson(10, 10)
    assert high == 1.0 and 0.69 < low < 0.73  # all right is not "certainly right"


def test_heldout_file_is_references_only_and_apart_from_the_first_set():
    data = json.loads(bench_claims.HELDOUT.read_text(encoding="utf-8"))
    first = json.loads(bench_claims.LABELS.read_text(encoding="utf-8"))["pairs"]
    assert "how it was made" in data["about"].lower().replace(":", "")

    def key(pair: dict) -> frozenset[str]:
        return frozenset(json.dumps(pair[side], sort_keys=True) for side in ("a", "b"))

    seen = {key(p) for p in first}
    for pair in data["pairs"]:
        assert pair["label"] in bench_claims.HELDOUT_LABELS
        assert set(pair) <= {"group", "stratum", "a", "b", "label", "near", "why"}
        for side in (pair["a"], pair["b"]):
            assert set(side) in ({"corpus", "id"}, {"corpus", "page", "sentence", "sha1"})
        assert key(pair) not in seen, "a held-out pair repeats the first set"
        seen.add(key(pair))
        if pair["label"] == "conflict":
            assert pair.get("why"), "every conflict says why"
    labels = [p["label"] for p in data["pairs"]]
    assert labels.count("conflict") >= 5 and labels.count("different") >= 100


@NEEDS_SHARED
def test_heldout_references_resolve_in_the_corpora():
    from newsdesk.ai.sentences import split_sentences

    headlines, bodies = bench_claims._sentences(SHARED)
    pairs = json.loads(bench_claims.HELDOUT.read_text(encoding="utf-8"))["pairs"]
    for pair in pairs:
        for side in (pair["a"], pair["b"]):
            assert bench_claims._resolve(side, headlines, bodies, split_sentences), side


@NEEDS_SHARED
def test_bench_scores_a_tiny_heldout_file(tmp_path: Path):
    heldout = tmp_path / "heldout.json"
    heldout.write_text(json.dumps({"about": "test", "pairs": TINY}), encoding="utf-8")
    first = json.loads(bench_claims.LABELS.read_text(encoding="utf-8"))
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"about": "test", "pairs": first["pairs"][:1]}), encoding="utf-8")

    result = bench_claims.run(shared=SHARED, labels=labels, heldout=heldout)

    assert result["pairs"] == 1  # the first set is scored apart, fields as before
    assert set(result["conflicting_figures"]) >= {"precision", "recall", "true_positives"}
    assert result["heldout_pairs"] == 6 and result["heldout_unresolved"] == 0
    assert result["heldout_ambiguous"] == 1 and result["heldout_scored"] == 5
    assert result["heldout_labelled_conflicts"] == 2 and result["heldout_labelled_conflict_stories"] == 1
    conflicts = result["heldout_conflicting_figures"]
    assert (conflicts["true_positives"], conflicts["false_positives"], conflicts["false_negatives"]) == (2, 0, 0)
    assert conflicts["precision"] == 1.0 and conflicts["recall"] == 1.0
    assert conflicts["precision_wilson95"] == bench_claims.wilson(2, 2)
    assert result["heldout_conflicts_on_near"] == 0
    same = result["heldout_same_claim"]
    assert (same["true_positives"], same["false_positives"], same["false_negatives"]) == (2, 0, 0)
    assert result["heldout_conflicting_figures_by_stratum"]["flagged"]["false_positives"] == 0


def test_bench_skips_cleanly_without_the_corpora(tmp_path: Path, capsys):
    result = bench_claims.run(shared=tmp_path / "nowhere")
    assert result["skipped"] is True
    assert "skipped" in capsys.readouterr().out
