"""Sentence splitting, summary and key points (newsdesk.ai.sentences, newsdesk.ai.summary).

The article below was written for these tests. The corpus tests at the end run the BBC
summaries benchmark when ../shared is present beside the repository.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from newsdesk.ai.sentences import benchmark_units, split_sentences
from newsdesk.ai.summary import Digest, summarize

SHARED = Path(__file__).resolve().parents[2] / "shared"

TITLE = "Riverside council approves tram line after long debate"
ARTICLE = """\
Riverside city council has approved a 12km tram line linking the harbour to the northern suburbs, ending three years of argument over the city's transport future.

The vote on Tuesday passed by 31 to 18 after a debate that lasted more than six hours. Council leader Maria Okafor said the tram line would cut journey times across the city by a third and take 9,000 cars off the roads every day.

The project will cost 420m euros, of which the national government has promised to pay 250m. Work on the tram line is due to begin in March next year, and the first trams should run in 2029.

Opponents of the tram line said the council had underestimated the cost of moving water pipes and power cables under the main roads. "The council is gambling with money it does not have," said opposition councillor Tom Brandt. He added that a bus network would serve the suburbs at a fraction of the cost.

Shop owners on Harbour Street, where the tram line will run, fear a long period of disruption. The council has promised compensation for businesses that lose trade during the works.

A public inquiry into the route last year found no legal obstacle to the project. The tram line will have 14 stops, and trams will run every six minutes at peak times.
"""


def _squash(text: str) -> str:
    return "".join(text.split())


# --- sentences -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Mr. Smith went to Washington. He met Dr. Jones there.",
            ["Mr. Smith went to Washington.", "He met Dr. Jones there."],
        ),
        (
            "The U.S. Army arrived on Jan. 5 in the town. It left a week later.",
            ["The U.S. Army arrived on Jan. 5 in the town.", "It left a week later."],
        ),
        (
            "He moved to the U.S. The move was a success.",
            ["He moved to the U.S.", "The move was a success."],
        ),
        (
            "J. K. Rowling and George W. Bush met. Nobody knows why.",
            ["J. K. Rowling and George W. Bush met.", "Nobody knows why."],
        ),
        (
            "Prices rose 3.5% to $41.48. Brent crude also rose.",
            ["Prices rose 3.5% to $41.48.", "Brent crude also rose."],
        ),
        ('"We are ready." Then the talks began.', ['"We are ready."', "Then the talks began."]),
        (
            "They would fight 'to the last Ukrainian.' Russia says otherwise.",
            ["They would fight 'to the last Ukrainian.'", "Russia says otherwise."],
        ),
        (
            "It was over... Or was it? Yes! The end.",
            ["It was over...", "Or was it?", "Yes!", "The end."],
        ),
        ("He waited... and waited. Then he left.", ["He waited... and waited.", "Then he left."]),
        (
            "No. 10 Downing St. is the address. It is famous.",
            ["No. 10 Downing St. is the address.", "It is famous."],
        ),
        (
            "Apple Inc. said profits rose. MCI Inc. Former staff were told.",
            ["Apple Inc. said profits rose.", "MCI Inc.", "Former staff were told."],
        ),
    ],
)
def test_split_sentences_edge_cases(text, expected):
    assert [s.text for s in split_sentences(text)] == expected


def test_split_sentences_offsets_paragraphs_and_nothing_dropped():
    sentences = split_sentences(ARTICLE)
    assert [s.index for s in sentences] == list(range(len(sentences)))
    for s in sentences:
        assert ARTICLE[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
    assert _squash("".join(s.text for s in sentences)) == _squash(ARTICLE)
    assert [s.paragraph for s in sentences] == [0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]
    assert sentences[5].text.startswith("Opponents")


def test_split_sentences_single_line_breaks_and_blank_input():
    assert split_sentences("") == []
    assert split_sentences("   \n\n  ") == []
    lines = split_sentences("Headline without a stop\nFirst paragraph. Second sentence.\nLast one")
    assert [(s.text, s.paragraph) for s in lines] == [
        ("Headline without a stop", 0),
        ("First paragraph.", 1),
        ("Second sentence.", 1),
        ("Last one", 2),
    ]
    wrapped = split_sentences("One paragraph\nwrapped over lines.\n\nAnother one.")
    assert [(s.text, s.paragraph) for s in wrapped] == [
        ("One paragraph", 0),
        ("wrapped over lines.", 0),
        ("Another one.", 1),
    ]


def test_benchmark_units_counts_what_a_plain_splitter_sees():
    assert benchmark_units("The U.S. Army arrived.") == 1
    assert benchmark_units("It arrived on Jan. 5 at night.") == 2
    assert benchmark_units('He said "yes." Then he left.') == 2


# --- summary ---------------------------------------------------------------------------


def test_summary_is_three_article_sentences_in_order():
    digest = summarize(TITLE, ARTICLE)
    sentences = split_sentences(ARTICLE)
    indexes = digest.summary_sentences
    assert len(indexes) == 3 and list(indexes) == sorted(indexes) and len(set(indexes)) == 3
    assert digest.summary == " ".join(" ".join(sentences[i].text.split()) for i in indexes)
    assert sum(benchmark_units(" ".join(sentences[i].text.split())) for i in indexes) <= 3
    # the lede, which names everything the rest of the article is about, is the most central
    assert 0 in indexes


def test_key_points_are_distinct_traceable_and_cover_the_article():
    digest = summarize(TITLE, ARTICLE)
    sentences = split_sentences(ARTICLE)
    points = digest.key_points
    assert 3 <= len(points) <= 5
    assert len({p.text for p in points}) == len(points)
    used = [i for p in points for i in p.sentences]
    assert len(set(used)) == len(used)
    assert not set(used) & set(digest.summary_sentences)  # they add to the summary
    for point in points:
        (i,) = point.sentences
        source = " ".join(sentences[i].text.split())
        assert point.text == source or source.lower().endswith(point.text[1:].lower())
    assert len({sentences[i].paragraph for i in used}) == len(used)  # different parts


def test_key_points_trim_leading_connectives():
    text = (
        "The bridge will close for repairs on Monday, the city said. "
        "However, the ferry will run every ten minutes while the bridge is closed. "
        "He added that the repairs to the bridge would take about six weeks to finish. "
        "Drivers are advised to use the ring road while the bridge is closed. "
        "The bridge carries forty thousand cars across the river each day."
    )
    texts = [p.text for p in summarize("Bridge to close", text).key_points]
    assert "However," not in " ".join(texts) and "He added that" not in " ".join(texts)


def test_short_and_empty_articles():
    assert summarize("Nothing", "") == Digest()
    assert summarize("Nothing", "  \n\n ").key_points == []
    one = summarize("One", "The match was called off because of snow.")
    assert one.summary == "The match was called off because of snow."
    assert one.summary_sentences == (0,)
    assert [(p.text, p.sentences) for p in one.key_points] == [("The match was called off because of snow.", (0,))]
    three = summarize("Three", "First sentence here. Second sentence here. Third sentence here.")
    assert three.summary_sentences == (0, 1, 2)
    assert len(three.key_points) == 3


def test_summary_skips_a_repeated_headline():
    digest = summarize(TITLE, TITLE + "\n\n" + ARTICLE)
    assert 0 not in digest.summary_sentences


# --- benchmark (corpus) ----------------------------------------------------------------

TEXTRANK = {"rouge1": 0.591, "rouge2": 0.541, "rougeL": 0.454}


def _scorer():
    path = SHARED / "eval" / "score_summaries.py"
    spec = importlib.util.spec_from_file_location("score_summaries", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
def test_our_sentences_are_never_two_of_the_scorer():
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    scorer = _scorer()
    from bench.summaries import read_article

    files = sorted((SHARED / "corpora" / "summaries" / "bbc" / "articles").glob("*/*.txt"))[::7]
    for path in files:
        for s in split_sentences(read_article(path)[1]):
            line = " ".join(s.text.split())
            assert benchmark_units(line) == len(scorer.sentences(line)), line


@pytest.mark.corpus
@pytest.mark.slow
def test_summaries_benchmark_beats_textrank(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    pytest.importorskip("rouge_score")
    from bench.summaries import predict_summaries

    articles = SHARED / "corpora" / "summaries" / "bbc" / "articles"
    output = tmp_path / "summaries.json"
    predict_summaries(articles, output)
    predictions = json.loads(output.read_text(encoding="utf-8"))
    scorer = _scorer()
    assert all(len(scorer.sentences(summary)) <= 3 for summary in predictions.values())
    metrics = scorer.score_summaries(articles.parent, output)
    assert metrics["cut_to_3"] == 0
    for name, anchor in TEXTRANK.items():
        assert metrics[name] > anchor + 0.005, (name, metrics[name])


@pytest.mark.corpus
def test_predictor_reads_only_the_article_files(tmp_path):
    """Opaque folder names and no summaries/ beside: the predictions do not change."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    from bench.summaries import predict_summaries

    source = SHARED / "corpora" / "summaries" / "bbc" / "articles"
    copy = tmp_path / "in"
    originals = {}
    for n, path in enumerate(sorted(source.glob("*/*.txt"))[::97]):
        target = copy / f"x{n % 3}" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        originals[f"x{n % 3}/{path.stem}"] = f"{path.parent.name}/{path.stem}"
    predict_summaries(copy, tmp_path / "copy.json")
    predict_summaries(source, tmp_path / "all.json")
    on_copy = json.loads((tmp_path / "copy.json").read_text(encoding="utf-8"))
    on_source = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert set(on_copy) == set(originals)
    for key, original in originals.items():
        assert on_copy[key] == on_source[original]
        assert re.sub(r"\s+", " ", on_copy[key]).strip()
