"""Sections: short hand-written articles land where a reader would look for them, the
guess is well-formed for any input, and the BBC benchmark figure does not regress."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from newsdesk.ai import section_hints, sections
from newsdesk.ai.sections import SECTIONS, SectionGuess, classify
from tests.subprocess_json import shared_score

ARTICLES = {
    "sports": (
        "United sink City in derby thriller",
        (
            "Two second-half goals from the striker gave United a 2-1 win over City on Sunday. "
            "The visitors had led through a first-half penalty, but the home side's midfield took "
            "control after the break. The manager praised his squad and said the title race was "
            "far from over."
        ),
    ),
    "business": (
        "Supermarket profits rise as shoppers return",
        (
            "The supermarket chain reported a 12% rise in annual pre-tax profit to £1.2bn, helped "
            "by stronger sales of food and clothing. Its shares rose 4% in early trading. The chief "
            "executive said the firm would open 40 new stores, although analysts warned that rising "
            "interest rates could squeeze consumer spending."
        ),
    ),
    "politics": (
        "Opposition leader sets out election pledges",
        (
            "The leader of the opposition has promised to cut council tax and recruit more police "
            "officers if his party wins the general election. Launching the manifesto, he accused the "
            "prime minister of breaking promises on immigration. Ministers said the plans did not add "
            "up, and MPs will debate them in the Commons next week."
        ),
    ),
    "technology": (
        "New phone puts the web in your pocket",
        (
            "The handset has a larger touch screen, a faster processor and a camera with twice as "
            "many megapixels. Users will be able to download apps, stream video over wi-fi and back "
            "up photos online. The maker hopes the device will win back customers from rival "
            "smartphone makers."
        ),
    ),
    "science": (
        "Astronomers find water on distant planet",
        (
            "Astronomers using a space telescope have detected water vapour in the atmosphere of a "
            "planet orbiting a star 110 light years away. The scientists, writing in the journal "
            "Nature, say the planet lies where liquid water could exist."
        ),
    ),
    "health": (
        "Daily walk cuts heart disease risk, study finds",
        (
            "People who walk briskly for 30 minutes a day are much less likely to develop heart "
            "disease, according to a study of 50,000 patients. Doctors found the benefits were "
            "greatest in people with high blood pressure or diabetes."
        ),
    ),
    "entertainment": (
        "Director's drama leads Oscar nominations",
        (
            "The period drama has received 11 Academy Award nominations, including best director "
            "and best actress for its star. The film has taken more than $200m at the box office, "
            "and the ceremony will be hosted by a comedian."
        ),
    ),
    "lifestyle": (
        "Ten easy recipes for a summer picnic",
        (
            "Planning a picnic this weekend? Our food writer shares ten simple recipes, from a zesty "
            "couscous salad to lemon cupcakes, plus tips on packing a cool bag and choosing a wine. "
            "Most dishes can be made the night before, leaving more time in the garden with family."
        ),
    ),
    "world": (
        "Ceasefire collapses as fighting resumes in the east",
        (
            "Heavy shelling hit several towns in the east of the country overnight as a fragile "
            "ceasefire collapsed. At least 30 civilians were killed and thousands of refugees fled "
            "towards the border. The UN Security Council will hold an emergency meeting."
        ),
    ),
}

# The borderline rules of the module docstring, one case each.
BORDERLINE = {
    "politics": (  # politicians act, the subject is abroad
        "MPs clash over troop deployment",
        (
            "Opposition MPs accused the defence secretary of misleading parliament over plans to "
            "send more troops abroad. In a heated Commons debate the minister insisted the "
            "deployment was lawful, while several backbenchers said they would vote against it."
        ),
    ),
    "world": (  # the events themselves
        "Russian forces shell Ukrainian towns",
        (
            "Russian forces launched a new offensive in eastern Ukraine, shelling towns along the "
            "front line, officials said. Several civilians were killed and dozens wounded as troops "
            "fought for control of the area."
        ),
    ),
    "business": (  # the economy, though a minister is quoted
        "Economy grows faster than expected",
        (
            "The economy grew by 0.8% in the third quarter, official figures showed, beating "
            "economists' forecasts. The finance minister said the recovery was on track, but "
            "analysts warned that inflation and interest rates would weigh on consumer spending."
        ),
    ),
    "technology": (  # a game release
        "Space shooter tops games chart",
        (
            "The science-fiction shooter is the fastest-selling video game of the year, with gamers "
            "buying two million copies on PlayStation, Xbox and PC in its first week."
        ),
    ),
}


def _check_shape(guess: SectionGuess) -> None:
    assert guess.section in SECTIONS
    assert set(guess.scores) == set(SECTIONS)
    assert 0.0 <= guess.confidence <= 1.0
    assert all(0.0 <= value <= 1.0 for value in guess.scores.values())
    assert sum(guess.scores.values()) == pytest.approx(1.0, abs=1e-3)
    if guess.confidence > 0:  # 0 only when there was nothing to read
        assert guess.confidence == pytest.approx(max(guess.scores.values()), abs=1e-3)
        assert guess.scores[guess.section] == pytest.approx(guess.confidence, abs=1e-3)


def test_taxonomy_has_the_documented_sections() -> None:
    for name in (
        "world",
        "politics",
        "business",
        "technology",
        "science",
        "health",
        "sports",
        "entertainment",
        "lifestyle",
    ):
        assert name in SECTIONS
        assert f"- {name}:" in sections.__doc__
    assert len(set(SECTIONS)) == len(SECTIONS)


@pytest.mark.parametrize("expected", sorted(ARTICLES))
def test_clear_articles(expected: str) -> None:
    title, text = ARTICLES[expected]
    guess = classify(title, text)
    _check_shape(guess)
    assert guess.section == expected, guess.scores
    assert guess.confidence > 0.5


@pytest.mark.parametrize("expected", sorted(BORDERLINE))
def test_borderline_rules(expected: str) -> None:
    title, text = BORDERLINE[expected]
    assert classify(title, text).section == expected


def test_headline_alone_is_enough_for_a_clear_story() -> None:
    assert classify("Striker's hat-trick sends holders into cup semi-final", "").section == "sports"
    assert classify("Central bank raises interest rates to curb inflation", "").section == "business"


def test_politician_in_the_lead_makes_a_story_abroad_politics() -> None:
    title = "Straw welcomes Kashmir bus link"
    body = (
        "Foreign Secretary Jack Straw has welcomed the decision by India and Pakistan to "
        "open a bus link across the ceasefire line in Kashmir. He told MPs the move was a "
        "sign that peace talks between the two neighbours were bearing fruit."
    )
    assert classify(title, body).section == "politics"
    # the same events, without a politician driving the story, stay world
    events = (
        "India and Pakistan open a bus link across the ceasefire line in Kashmir, a sign "
        "that peace talks between the two neighbours are bearing fruit."
    )
    assert classify("Bus link opens across ceasefire line", events).section == "world"


def test_a_football_video_game_is_technology() -> None:
    title = "Football game kicks off console battle"
    body = (
        "The new football video game lets gamers manage a Premier League club, sign "
        "strikers in the transfer window and play every match of the season. The games "
        "maker says the PlayStation and Xbox versions will go on sale before the World Cup, "
        "with online multiplayer leagues for fans."
    )
    assert classify(title, body).section == "technology"


def test_a_drug_raid_is_not_health() -> None:
    # Issue 14: "CPD arrests six in drug investigation" was filed under health, its
    # "drug" read as medicine. Police at work in the headline and lead make it a crime's.
    guess = classify(
        "Police arrest six in drug investigation",
        "Police arrested six people on Monday during a narcotics investigation involving drug activity "
        "at a house on the east side. Officers stopped a car near the station and found methamphetamine "
        "and other drugs, a police spokesman said. Four of the six were taken to the county jail on "
        "charges of dealing and possession; two were released pending further investigation.",
    )
    assert guess.section != "health", guess.scores
    # ...while a story about a drug's medicine stays health.
    assert (
        classify(
            "New drug cuts the risk of heart attacks",
            "A new drug halved the risk of heart attacks in patients with high cholesterol, a clinical trial "
            "of 4,000 patients found. Doctors said the treatment could be prescribed within two years.",
        ).section
        == "health"
    )


def test_a_term_counts_once_per_part_however_often_repeated() -> None:
    once = sections.lexical_scores("", "The striker scored.")
    many = sections.lexical_scores("", "The striker scored. " + "The striker. " * 20)
    assert many == pytest.approx(once)


def test_given_vector_is_used_and_matches_computed_one() -> None:
    from newsdesk.ai.embeddings import embed

    title, text = ARTICLES["science"]
    vector = embed([f"{title}\n\n{text}"])[0]
    assert classify(title, text, vector=vector) == classify(title, text)
    # A vector from a different story moves the scores but not a clear lexical verdict.
    other = embed(["\n\n".join(ARTICLES["sports"])])[0]
    steered = classify(title, text, vector=other)
    assert steered.section == "science"
    assert steered.scores != classify(title, text, vector=vector).scores


@pytest.mark.parametrize(
    "title,text",
    [
        ("", ""),
        ("   ", "\n\t"),
        (None, None),
        ("<script>alert(1)</script>", "\x00\ufffd" * 50),
        ("1-0 2-2 3-1", "%%%% $$$ ££ 99% " * 200),
        ("word " * 5000, "lorem ipsum " * 20000),
    ],
)
def test_hostile_or_empty_input(title, text) -> None:
    guess = classify(title, text, vector=np.zeros(384, dtype=np.float32))
    _check_shape(guess)


def test_broken_vector_falls_back_to_the_words() -> None:
    title, text = ARTICLES["sports"]
    guess = classify(title, text, vector=np.full(384, np.nan, dtype=np.float32))
    _check_shape(guess)
    assert guess.section == "sports"


def test_empty_input_is_a_zero_confidence_fallback() -> None:
    guess = classify("", "   ")
    assert guess.confidence == 0.0
    assert guess.section == sections.FALLBACK


def test_classify_is_fast_with_a_vector() -> None:
    import time

    from newsdesk.ai.embeddings import embed

    title, text = ARTICLES["business"]
    text = " ".join([text] * 8)  # about 500 words, a long news article
    vector = embed([f"{title}\n\n{text}"])[0]
    classify(title, text, vector=vector)
    started = time.perf_counter()
    for _ in range(50):
        classify(title, text, vector=vector)
    per_call_ms = (time.perf_counter() - started) * 1000 / 50
    assert per_call_ms < 15, per_call_ms  # ~1-2 ms here; generous for a loaded CI box


@pytest.mark.parametrize(
    "labels,url,expected",
    [
        (["Sport"], "", {"sports"}),
        (["Sport > Football"], "", {"sports"}),
        (["News/UK/Politics"], "", {"politics"}),
        (["Science & Technology"], "", {"science", "technology"}),
        (["Arts and Entertainment", "Ukraine", "Premier League"], "", {"entertainment"}),
        (["News", "Opinion", "UK"], "", set()),
        (["x" * 500, None, 7], "", set()),  # hostile values are skipped, not errors
        ([], "https://www.example.com/sport/football/2024/05/01/cup-final-report", {"sports"}),
        ([], "https://www.bbc.co.uk/news/uk-politics-12345678", {"politics"}),
        ([], "https://www.bbc.co.uk/news/world-europe-12345678", {"world"}),
        ([], "https://www.bbc.co.uk/news/uk-12345678", set()),
        ([], "https://money.example.com/2004/story.html", {"business"}),
        # a slug is not a section, nor is a folder that only starts like one
        ([], "https://www.example.com/news/business-leaders-meet", set()),
        ([], "https://www.example.com/world-cup/final-report", set()),
        ([], "http://[::1", set()),
    ],
)
def test_publisher_section_labels_and_urls(labels, url, expected) -> None:
    assert section_hints.publisher_sections(labels, url) == expected


BORDER_TITLE = "Club board opens its books to takeover bidder"
BORDER_TEXT = (
    "The football club's board has agreed to give the American tycoon access to its "
    "accounts as he prepares a takeover bid. Shares in the club rose 3% and the manager "
    "said the squad was focused on Saturday's match."
)


def test_the_publisher_files_a_borderline_story() -> None:
    alone = classify(BORDER_TITLE, BORDER_TEXT).scores
    assert set(sorted(alone, key=alone.get)[-2:]) == {"sports", "business"}, alone  # the text is torn
    for labels, url, section in (
        (["Business"], "", "business"),
        (["Sport"], "", "sports"),
        ([], "https://www.example.com/business/club-books-bid", "business"),
        ([], "https://www.example.com/sport/football/club-books-bid", "sports"),
    ):
        guess = classify(BORDER_TITLE, BORDER_TEXT, publisher=labels, url=url)
        _check_shape(guess)
        assert guess.section == section, (labels, url, guess.scores)


def test_a_stray_label_does_not_overrule_a_plain_text() -> None:
    title, text = ARTICLES["sports"]
    for labels in (["Business"], ["Politics", "Travel"]):
        assert classify(title, text, publisher=labels).section == "sports"
    # labels that name no section change nothing
    assert classify(title, text, publisher=["News", "Ukraine"], url="https://x.example/a/b") == classify(title, text)


SHARED = Path(__file__).resolve().parents[2] / "shared"
BBC = SHARED / "corpora" / "summaries" / "bbc"
# The figure measured when this test was written (scorer accuracy on the dev articles),
# minus 0.01 of slack; see the benchmark report in bench/categories.py.
ACHIEVED = 0.9535


@pytest.mark.corpus
@pytest.mark.timeout(900)
@pytest.mark.skipif(not (BBC / "articles").is_dir(), reason="../shared corpora absent")
def test_bbc_benchmark_accuracy(tmp_path: Path) -> None:
    """Run the predictor as the checker does: on a copy under opaque folder names."""
    from bench.categories import predict_categories

    opaque = tmp_path / "articles"
    names = {}
    for index, folder in enumerate(sorted(p for p in (BBC / "articles").iterdir() if p.is_dir())):
        names[f"f{index}"] = folder.name
        shutil.copytree(folder, opaque / f"f{index}")
    predicted = tmp_path / "opaque.json"
    predict_categories(opaque, predicted)
    raw = json.loads(predicted.read_text(encoding="utf-8"))
    mapped = {f"{names[key.split('/')[0]]}/{key.split('/')[1]}": label for key, label in raw.items()}
    out = tmp_path / "pred.json"
    out.write_text(json.dumps(mapped), encoding="utf-8")
    metrics = shared_score("categories", BBC, out)
    assert metrics["n"] == len(mapped)
    assert metrics["accuracy"] >= ACHIEVED - 0.01, metrics
