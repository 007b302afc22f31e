"""The token owner's briefings and notifications. Every operation needs a token and acts
only on its user: another reader's notification is "not found", never theirs to read
or mark."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from newsdesk.api.auth import token_required
from newsdesk.api.endpoints.common import errors
from newsdesk.api.pagination import limit_param, offset_param, page
from newsdesk.api.schemas import PageInfo
from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings import notifications, personal, site

router = Router(tags=["briefings"])
MAX_IDS = 500


class CitedSentence(Schema):
    text: str
    article: int = Field(description="the id of the article the sentence comes from")
    site_url: str = Field(description="that article on this site")
    source: str = Field(description="its publisher")
    title: str = Field(description="its headline")


class Headline(Schema):
    article: int
    site_url: str
    source: str
    title: str


class SiteStory(Schema):
    story: int
    title: str
    site_url: str
    publishers: int
    articles: int
    sentences: list[CitedSentence]


class SiteBriefingOut(Schema):
    day: str = Field(description="YYYY-MM-DD in the site's time zone")
    made_at: datetime
    stories: list[SiteStory]


class StoryUpdate(Schema):
    story: int
    title: str
    site_url: str
    since: datetime = Field(description="when the reader last looked: only coverage newer than this is used")
    latest: datetime
    new_articles: int
    publishers: int
    sentences: list[CitedSentence]
    headlines: list[Headline] = Field(description="the new articles, when no sentence could be taken from them")


class PersonalBriefingOut(Schema):
    following: int = Field(description="stories the reader follows")
    updates: list[StoryUpdate]


class LatestArticle(Schema):
    id: int
    title: str
    site_url: str
    source: str
    published_at: datetime


class NotificationOut(Schema):
    id: int = Field(description="the followed thing's id (mark it read by this id)")
    kind: str = Field(description="story, hashtag or search")
    key: str = Field(description="the story's id, the hashtag's slug or the saved search's query string")
    label: str
    site_url: str = Field(description="the page that lists it")
    count: int = Field(description="new articles since it was last read (muted ones left out)")
    more: bool = Field(description="there are more than `count` (counting stops at 100)")
    unread: bool
    since: datetime = Field(description="new means after this: when it was last read, or followed")
    updated_at: datetime | None = Field(description="when the latest article arrived")
    read_at: datetime | None
    latest: LatestArticle | None


class NotificationPage(PageInfo):
    unread: int = Field(description="unread notifications in all")
    items: list[NotificationOut]


class MarkRead(Schema):
    ids: list[int] | None = Field(None, max_length=MAX_IDS, description="these notifications (their ids)")
    all: bool = Field(False, description="every unread notification (up to `before`, when given)")
    before: datetime | None = Field(None, description="with all: only those updated up to this time")


class Marked(Schema):
    marked: int = Field(description="notifications that became read")
    unread: int


def _cited(request: HttpRequest, lines: list[dict]) -> list[dict]:
    return [{**s, "site_url": request.build_absolute_uri(reverse("article", args=[s["article"]]))} for s in lines]


@router.get("/briefing/site", auth=token_required, response={200: SiteBriefingOut, **errors()})
def site_briefing(request: HttpRequest) -> dict:
    """Today's top stories, each in two or three sentences from several publishers,
    every sentence citing its article; what the reader muted is left out."""
    today = site.current()
    stories = site.for_reader(today.stories, mute_rules.of_user(request.auth.user.pk))
    return {
        "day": today.day.isoformat(),
        "made_at": today.made_at,
        "stories": [
            {
                **s,
                "site_url": request.build_absolute_uri(reverse("story", args=[s["story"]])),
                "sentences": _cited(request, s["sentences"]),
            }
            for s in stories
        ],
    }


@router.get("/briefing/personal", auth=token_required, response={200: PersonalBriefingOut, **errors()})
def personal_briefing(request: HttpRequest) -> dict:
    """What is new on each story the reader follows since they last looked at it, in
    sentences taken only from that newer coverage."""
    user_id = request.auth.user.pk
    updates = personal.whats_new(user_id)
    return {
        "following": len(personal.followed(user_id)),
        "updates": [
            {
                **u,
                "site_url": request.build_absolute_uri(reverse("story", args=[u["story"]])),
                "sentences": _cited(request, u["sentences"]),
                "headlines": _cited(request, u["headlines"]),
            }
            for u in updates
        ],
    }


def _notification(request: HttpRequest, item: dict) -> dict:
    latest = item["latest"]
    return {
        **item,
        "site_url": request.build_absolute_uri(item["url"]),
        "latest": None if latest is None else {**latest, "site_url": request.build_absolute_uri(latest["url"])},
    }


@router.get("/notifications", auth=token_required, response={200: NotificationPage, **errors()})
def list_notifications(
    request: HttpRequest,
    unread: bool = Query(False, description="only unread ones"),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> dict:
    """New articles on the stories, hashtags and saved searches the reader follows,
    newest first: one entry per followed thing with news, then those read in the last
    week."""
    user_id = request.auth.user.pk
    found = notifications.listing(user_id, unread_only=unread)
    items = [_notification(request, item) for item in notifications.describe(found[offset : offset + limit])]
    result = page(request, items, count=len(found), limit=limit, offset=offset)
    result["unread"] = sum(1 for f in found if f.unread) if not unread else len(found)
    return result


@router.post("/notifications/read", auth=token_required, response={200: Marked, **errors(400)})
def mark_notifications_read(request: HttpRequest, body: MarkRead) -> dict:
    """Mark notifications read: `ids`, or `all` (up to `before`). Marking a read one
    again, or another reader's, changes nothing."""
    user_id = request.auth.user.pk
    if body.all:
        marked = notifications.mark_read(user_id, before=body.before)
    else:
        marked = notifications.mark_read(user_id, body.ids or [])
    return {"marked": marked, "unread": notifications.unread_count(user_id)}
