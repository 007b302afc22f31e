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
