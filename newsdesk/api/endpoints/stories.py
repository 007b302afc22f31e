"""Stories: one event as several publishers cover it. Merged stories are left out."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router

from newsdesk.api import serialize
from newsdesk.api.endpoints.common import OPTIONAL_TOKEN, errors, id_param, not_found
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.schemas import (
    ClaimConflict,
    Coverage,
    PageInfo,
    PrimarySource,
    StoryClaim,
    StoryDetail,
    StoryGlance,
    StoryItem,
)
from newsdesk.perspectives.alignment import story_claims_data
from newsdesk.perspectives.changes import summaries, summary_data
from newsdesk.perspectives.export import stories_at_a_glance, story_coverage
from newsdesk.perspectives.primary import story_primary_sources

router = Router(tags=["stories"])


class StoryItemWithCoverage(StoryItem):
    coverage: Coverage
    perspectives: StoryGlance = Field(description="publishers by kind and region, agreements, conflicts, corrections")


class StoryPageWithCoverage(PageInfo):
    items: list[StoryItemWithCoverage]


class StoryDetailWithCoverage(StoryDetail):
    coverage: Coverage
    perspectives: StoryGlance = Field(description="the same in a few numbers, as the story list has it")
    primary_sources: list[PrimarySource] = Field(
        description="documents the articles link to (newsdesk/perspectives/primary.py), most publishers first"
    )
    claims: list[StoryClaim] = Field(
        description="figures and quotations stated alike by two or more publishers, most publishers first "
        "(newsdesk/ai/claims.py, newsdesk/ai/claim_alignment.py)"
    )
    conflicts: list[ClaimConflict] = Field(
        description="where publishers state different figures for the same thing, or attribute a quotation "
        "to different people"
    )


class StoryOrder(str, Enum):  # noqa: UP042 (str and Enum: how django-ninja documents it)
    newest = "newest"
    covered = "covered"


ORDERINGS = {
    StoryOrder.newest: ("-last_seen", "-id"),
    StoryOrder.covered: ("-publisher_count", "-article_count", "-last_seen", "-id"),
}


@router.get("/stories", response={200: StoryPageWithCoverage, **errors()}, openapi_extra=OPTIONAL_TOKEN)
def list_stories(
    request: HttpRequest,
    order: StoryOrder = Query(
        StoryOrder.newest,
        description="newest: latest coverage first; covered: most publishers first",
    ),
    hours: int | None = Query(None, ge=1, le=24 * 365, description="only stories seen in the last N hours"),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> dict:
    """Stories (not those merged into another one)."""
    from newsdesk.stories.models import Story

    stories = Story.objects.filter(merged_into__isnull=True)
    if hours:
        stories = stories.filter(last_seen__gte=timezone.now() - timedelta(hours=hours))
    count = stories.count()
    rows = list(stories.order_by(*ORDERINGS[order])[offset : offset + limit])
    covered = story_coverage(rows)
    glance = stories_at_a_glance(rows, covered)  # two queries for the page, whatever its length
    return page(
        request,
        [{**serialize.story_item(request, s), "coverage": covered[s.pk], "perspectives": glance[s.pk]} for s in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


@router.get("/stories/{story_id}", response={200: StoryDetailWithCoverage, **errors(404)}, openapi_extra=OPTIONAL_TOKEN)
def get_story(request: HttpRequest, story_id: int = id_param("story")) -> dict:
    """One story with its articles, oldest first, and who covers it."""
    from newsdesk.stories.models import Story

    story = Story.objects.filter(pk=story_id).first()
    if story is None:
        raise not_found(f"There is no story {story_id}.")
    if story.merged_into_id is not None:
        raise not_found(f"Story {story_id} was merged into story {story.merged_into_id}.")
    members = list(story.members.order_by("article__published_at", "article_id"))
    articles = {a.pk: a for a in serialize.in_order(m.article_id for m in members)}
    changed = summaries(articles)
    coverage = story_coverage([story])
    claims = story_claims_data(story)
    return {
        **serialize.story_item(request, story),
        "coverage": coverage[story.pk],
        "perspectives": {
            **stories_at_a_glance([story], coverage)[story.pk],
            # What the page shows now (current members only), not the counts of the last alignment.
            "agreements": len(claims["claims"]),
            "conflicts": len(claims["conflicts"]),
        },
        "primary_sources": story_primary_sources(story),
        **claims,
        "summary": serialize.story_summary(story.summary),
        "members": [
            {
                "article": serialize.article_item(request, articles[m.article_id]),
                "similarity": m.similarity,
                "joined_at": m.joined_at,
                "changes": summary_data(changed.get(m.article_id)),
            }
            for m in members
            if m.article_id in articles
        ],
    }
