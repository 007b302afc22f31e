"""The entity recogniser behind hashtags (newsdesk.ai.entities) and its benchmark
(`newsdesk bench predict entities`, CoNLL-2003). Short articles written for these
tests, each naming a mistake readers saw on real pages. No database."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from newsdesk.ai.entities import ORGANIZATION, OTHER, PERSON, PLACE, Entity, find_entities, find_mentions
from newsdesk.language import article_language

SHARED = Path(__file__).resolve().parents[2] / "shared"
CONLL = SHARED / "corpora" / "entities" / "conll2003-dev"

PLAGUE = """\
Health officials in Inner Mongolia confirmed a third case of bubonic plague on Sunday,
according to Sui-Lee Wee of the New York Times. The regional health commission said the
patient, a herder, was being treated in isolation.
The Chinese Center for Disease Control assured the public on Weibo that the risk of
transmission was extremely low. Wee reported that the sites the patient visited had been
disinfected.
"""

SPORT = """\
Leicestershire beat Somerset by an innings at Grace Road on Friday, with P. Simmons
taking four wickets. American Dennis Mitchell won the 100 metres in Berlin, and
Mitchell said the crowd had carried him.
Results on Saturday: Pohang 3 Ulsan 2, Puchon 1 Chonbuk 1.
Japan 2 Syria 1 in the Asian Cup qualifier in Tokyo.
Mike Hulbert, Brian Henninger, Tiger Woods and Steve Stricker shared the lead.
Fixtures on Sunday: Leeds v Bristol.
"""


def by_name(entities: list[Entity]) -> dict[str, Entity]:
    return {e.name: e for e in entities}


def kinds(title: str, text: str) -> dict[str, str | None]:
    return {m.surface: m.kind for m in find_mentions(title, text)}


# -- kinds readers saw wrong ---------------------------------------------------------------


def test_region_with_a_direction_word_is_a_place():
    assert by_name(find_entities("Plague case confirmed", PLAGUE))["Inner Mongolia"].kind == PLACE


def test_hyphenated_given_name_is_a_person():
    entities = by_name(find_entities("Plague case confirmed", PLAGUE))
    assert entities["Sui-Lee Wee"].kind == PERSON
    assert "Wee" in entities["Sui-Lee Wee"].surfaces  # "Wee reported" is her too


def test_lone_given_name_without_a_person_around_is_no_person():
    """ "Weibo" is in a list of given names, but nothing in the article makes it a
    person: no full name, no speech, no title."""
    entities = by_name(find_entities("Plague case confirmed", PLAGUE))
    assert "Weibo" not in entities or entities["Weibo"].kind != PERSON


def test_unknown_single_word_is_only_a_guess():
    entities = by_name(find_entities("", "The probe mapped the dunes of Titan, the largest moon of Saturn."))
    assert all(e.guessed for e in entities.values() if e.name in ("Titan", "Saturn"))


def test_middle_initial_does_not_split_a_name():
    text = "Sonya A. Zoghlin, the man's attorney, told The Hill her client meant no harm."
    entities = by_name(find_entities("", text))
    assert entities["Sonya Zoghlin"].kind == PERSON
    assert "Sonya" not in entities and "Zoghlin" not in entities


def test_initial_and_surname_is_a_person():
    assert kinds("", SPORT)["P Simmons"] == PERSON


def test_nationality_before_a_full_name_is_not_part_of_it():
    found = kinds("", SPORT)
    assert found["Dennis Mitchell"] == PERSON and found["Mitchell"] == PERSON
    assert "American Dennis Mitchell" not in found
    american = [m for m in find_mentions("", SPORT) if m.surface == "American"]
    assert american and american[0].demonym  # stands for the country, is no place name


def test_clubs_named_after_towns_are_organisations_national_sides_stay_places():
    found = kinds("", SPORT)
    assert found["Pohang"] == found["Ulsan"] == found["Puchon"] == ORGANIZATION
    assert found["Leeds"] == found["Bristol"] == ORGANIZATION
    assert found["Japan"] == found["Syria"] == found["Tokyo"] == found["Berlin"] == PLACE


def test_names_listed_together_share_a_kind():
    assert kinds("", SPORT)["Tiger Woods"] == PERSON


def test_events_are_neither_organisations_nor_places():
    assert kinds("", SPORT)["Asian Cup"] == OTHER


def test_what_the_article_says_settles_a_guess():
    text = (
        "Government troops took the town of Tavildara on Sunday. Rebels said Tavildara had "
        "been shelled for a week. Their leader Nozim Kavrakov said the fighting would go on."
    )
    entities = by_name(find_entities("", text))
    assert entities["Tavildara"].kind == PLACE and not entities["Tavildara"].guessed
    assert entities["Nozim Kavrakov"].kind == PERSON


def test_an_office_that_announces_is_no_person():
    text = "The U.S. Attorney's Office for the Western District of New York announced the plea on Monday."
    assert by_name(find_entities("", text))["Western District of New York"].kind == ORGANIZATION


# -- language ------------------------------------------------------------------------------

GERMAN = """\
Dieses Jahr sind wir wieder auf der DMEXCO in Köln vertreten. Sie finden uns in Halle 7,
wo wir zeigen, wie Unternehmen die Digitalisierung gestalten. Als Digitalberater
begleiten wir unsere Kunden seit vielen Jahren, und die Messe ist für uns ein wichtiger
Termin, um Partner und Kunden zu treffen.
"""


def test_text_language_beats_a_template_declaration():
    assert article_language("comwrap auf der DMEXCO", GERMAN, declared="en") == "de"
    assert article_language("Short", "Too short to tell.", declared="fr") == "fr"
    assert article_language("Short", "Too short to tell.", declared=None) == "en"
    # The other way round: an English report on a site whose template says German.
    english = PLAGUE * 2
    assert article_language("Plague case confirmed in Inner Mongolia", english, declared="de") == "en"


def test_german_page_gets_no_english_names_from_german_words():
    entities = find_entities("comwrap auf der DMEXCO", GERMAN, language="de")
    assert {e.name for e in entities} <= {"Köln"}
    assert all(e.kind == PLACE for e in entities)


def test_outside_english_only_full_names_make_people():
    text = (
        "Des Weiteren sprach Bundeskanzler Olaf Scholz am Montag in Berlin über die Lage. "
        "Scholz sagte, die Regierung werde des Weiteren handeln."
    )
    entities = by_name(find_entities("Scholz in Berlin", text, language="de"))
    assert entities["Olaf Scholz"].kind == PERSON and entities["Berlin"].kind == PLACE
    assert "Des Weiteren" not in entities


# -- the benchmark -------------------------------------------------------------------------


@pytest.mark.corpus
def test_conll_dev_f1_above_the_anchors(tmp_path):
    """The anchors in ../shared/eval/baselines/entities.md: at best 0.722 F1 (a gazetteer
    of CoNLL's own training names), spaCy en_core_web_sm 0.645."""
    if not (CONLL / "tokens.txt").exists():
        pytest.skip("../shared CoNLL-2003 corpus is absent")
    from bench.entities import predict_entities

    out = tmp_path / "entities.json"
    report = predict_entities(CONLL, out)
    predictions = json.loads(out.read_text(encoding="utf-8"))
    lines = (CONLL / "tokens.txt").read_text(encoding="utf-8").splitlines()
    assert report["sentences"] == len(predictions) == len(lines)
    spec = importlib.util.spec_from_file_location("score_entities", SHARED / "eval" / "score_entities.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    metrics = scorer.score(CONLL, out)
    assert metrics["f1"] > 0.722, metrics
