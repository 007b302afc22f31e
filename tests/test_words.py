"""Word lists behind names and hashtags, read so that a worker holds only what it asks."""

from __future__ import annotations

from gender_guesser.detector import Detector

from newsdesk.ai import words


def test_given_names_are_gender_guessers_names():
    """Read from the data file without the Detector's per-country frequencies, the set
    must hold exactly the names the Detector knows ("+" spellings expanded as it does)."""
    assert words.given_names() == frozenset(Detector(case_sensitive=False).names)
    assert words.is_first_name("Alexander") and words.is_first_name("ALEXANDER")
    assert not words.is_first_name("Lukashenko")


def test_lemmas_are_lemminflects_for_every_word_of_its_table():
    """Held as one string per word instead of lemminflect's dict of dicts (33 MB a
    process), the table must answer as getAllLemmas does: every word of it, its
    overrides, capitalised and unknown words."""
    import lemminflect

    table = words._lemma_table()
    assert len(table) > 50_000
    samples = [*table, *words._lemma_overrides(), "Went", "MEN", "Lukashenko", "'d", ""]
    for word in samples:
        assert words.lemmas_of(word) == lemminflect.getAllLemmas(word), word
    assert words.base_form("eaten") == words.base_form("ate") == "eat"
    assert words.singular("swaps") == "swap" and words.word_classes("meeting") >= {"NOUN", "VERB"}
