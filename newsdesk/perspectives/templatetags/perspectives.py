"""Template tags of the perspectives: a publisher's profile beside its byline, a story's
coverage breakdown and its compact form for story lists.

The byline tag is a plain tag returning its few words of HTML (no template: an article
page shows a dozen bylines, and an included template costs about 50 us each); it reads
the remembered profiles (profiles.py), so a page asks the database nothing for it.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from newsdesk.perspectives import blindspots, coverage
from newsdesk.perspectives.profiles import Profile, profile_of
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story

register = template.Library()


@register.simple_tag
def source_profile(source: Source) -> Profile | None:
    """`{% source_profile source as profile %}`."""
    return profile_of(source) if source is not None else None


@register.simple_tag
def byline_profile(source: Source) -> str:
    """`{% byline_profile article.source %}`: "(public broadcaster, United Kingdom)"."""
    profile = profile_of(source) if source is not None else None
    if profile is None:
        return ""
    words = [w for w in (profile.kind_short, profile.country_name) if w]
    if not words:
        return ""
    return format_html('<span class="src-profile">({})</span>', ", ".join(words))


@register.simple_tag
def profile_summary(source: Source) -> str:
    """`{% profile_summary source %}`: "Public broadcaster · United Kingdom"."""
    profile = profile_of(source) if source is not None else None
    if profile is None:
        return ""
    return " · ".join(w for w in (profile.kind_label, profile.country_name) if w)


@register.simple_tag
def story_coverage(story: Story) -> dict:
    """`{% story_coverage story as coverage %}`: its breakdown and blindspot flags."""
    found = coverage.breakdown_of(story)
    return {"breakdown": found, "flags": blindspots.flags(found, blindspots.site_baseline())}


@register.inclusion_tag("perspectives/_compact.html")
def coverage_compact(story: Story) -> dict:
    """`{% coverage_compact story %}`: one bar of kinds and a line of words."""
    return {"breakdown": coverage.breakdown_of(story)}
