"""`{% story_claims story as claims %}`: where a story's publishers agree and differ."""

from __future__ import annotations

from typing import Any

from django import template

from newsdesk.perspectives.alignment import StoryClaims
from newsdesk.perspectives.alignment import story_claims as read_story_claims

register = template.Library()

SHOWN = 6  # agreements shown before the rest fold into "N more"


@register.simple_tag
def story_claims(story: Any) -> StoryClaims:
    return read_story_claims(story)
