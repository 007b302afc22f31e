"""Stories: one event as several publishers cover it. Merged stories are left out."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from newsdesk.api import serialize
from newsdesk.api.endpoints.common import OPTIONAL_TOKEN, errors, id_param, not_found
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.schemas import PageInfo, StoryDetail, StoryItem
from newsdesk.perspectives.alignment import story_claims_data
from newsdesk.perspectives.export import story_coverage
from newsdesk.perspectives.primary import story_primary_sources

router = Router(tags=["stories"])


# --- Who covers a story (newsdesk/perspectives/) ------------------------------------------


class CoveragePart(Schema):
    key: str = Field(description="region key, ISO country or language code, kind, owner; empty: not known")
    label: str
    count: int = Field(description="publishers in this part")
    share: float = Field(description="of the story's publishers, 0 to 1")
    publishers: list[str] = Field(description="their slugs, by name")


class CoverageDimension(Schema):
    key: str = Field(description="region, country, kind, language or owner")
    title: str
    parts: list[CoveragePart] = Field(description="largest first, not known last")


class CoverageFlag(Schema):
    rule: str = Field(description="state-only, one-region, one-kind, missing-kind or missing-region")
    title: str
    groups: list[str] = Field(description="the regions or kinds of outlet concerned")
    statement: str = Field(description="why the rule flags this story, in words")


class Coverage(Schema):
    publishers: int
    dimensions: list[CoverageDimension]
    blindspots: list[CoverageFlag] = Field(
        description="the blindspot rules this story meets (see /stories/blindspots/)"
    )


class StoryItemWithCoverage(StoryItem):
    coverage: Coverage


class StoryPageWithCoverage(PageInfo):
    items: list[StoryItemWithCoverage]


class PrimaryLinker(Schema):
    slug: str
    name: str
    articles: int = Field(description="of this publisher's articles on the story that link to it")


class PrimarySource(Schema):
    url: str = Field(description="the most linked form of the document's URL")
    kind: str = Field(description="study, court, government, press, data or document")
    kind_label: str
    label: str = Field(description="the link text (the most used one), or the URL's last part")
    host: str
    publishers: list[PrimaryLinker] = Field(description="the publishers that link to it, most-linked first")


class ClaimCitation(Schema):
    article: int
    url: str = Field(description="the article's page on this site")
    publisher: str = Field(description="the publisher's slug")
    publisher_name: str
    sentence: int = Field(description="index of the sentence in the article's text; -1: the headline")
    text: str = Field(description="the sentence, as the article has it")
    value: str = Field(description="the figure as written in it, or the quotation")
    speaker: str = Field(description="who the quotation is attributed to there; empty when no one is named")
    published_at: datetime


class StoryClaim(Schema):
    kind: str = Field(description="figure or quote")
    what: str = Field(description="what the figure measures: deaths, amount in USD, percentage, who said it, ...")
    value: str = Field(description="the figure as the first publisher wrote it; empty for a quotation")
    text: str = Field(description="the sentence of the first publisher to report it")
    publishers: int = Field(description="publishers that state it")
    of_publishers: int = Field(description="publishers of the story")
    citations: list[ClaimCitation] = Field(description="one sentence per publisher, earliest first")


class ClaimVersion(Schema):
    value: str = Field(description="the figure as written, or the person a quotation is attributed to")
    newer: bool = Field(description="first reported after the other version")
    first_reported: datetime
    publishers: int
    citations: list[ClaimCitation]


class ClaimConflict(Schema):
    kind: str = Field(description="figure: different figures for the same thing; quote: different speakers")
    what: str
    versions: list[ClaimVersion] = Field(description="the two versions, first reported first")


class StoryDetailWithCoverage(StoryDetail):
    coverage: Coverage
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
    return page(
        request,
        [{**serialize.story_item(request, s), "coverage": covered[s.pk]} for s in rows],
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
    return {
        **serialize.story_item(request, story),
        "coverage": story_coverage([story])[story.pk],
        "primary_sources": story_primary_sources(story),
        **story_claims_data(story),
        "summary": serialize.story_summary(story.summary),
        "members": [
            {
                "article": serialize.article_item(request, articles[m.article_id]),
                "similarity": m.similarity,
                "joined_at": m.joined_at,
            }
            for m in members
            if m.article_id in articles
        ],
    }
