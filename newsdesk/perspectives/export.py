"""The perspectives as plain data, for the API (newsdesk/api/endpoints/stories.py and
sources.py declare their schemas): a story's coverage with its blindspot flags, a
publisher's profile."""

from __future__ import annotations

from collections.abc import Iterable

from newsdesk.perspectives import blindspots, coverage
from newsdesk.perspectives.profiles import profile_of
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story


def story_coverage(stories: Iterable[Story]) -> dict[int, dict]:
    """Each story's breakdown and blindspot flags by story id: one lookup for all."""
    found = coverage.breakdowns(stories)
    site = blindspots.site_baseline()
    return {
        pk: {
            **breakdown.as_data(),
            "blindspots": [
                {
                    "rule": flag.rule.key,
                    "title": flag.rule.title,
                    "groups": list(flag.groups),
                    "statement": flag.statement,
                }
                for flag in blindspots.flags(breakdown, site)
            ],
        }
        for pk, breakdown in found.items()
    }


def source_profile(source: Source) -> dict:
    profile = profile_of(source)
    assert profile is not None  # a Source instance always has one
    return profile.as_data()
