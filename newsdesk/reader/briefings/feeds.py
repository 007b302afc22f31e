"""The reader's private briefing feed, RSS and Atom (Django's syndication framework).

The address carries a signed token (tokens.py) instead of a session, since feed readers
have none; it works while the reader's feed is on and its version is the current one.
Items: what is new on the reader's stories since they last looked (one item, whose id
changes when its content does, so a feed reader shows it again when there is more),
then the site briefing of each of the last 14 days. Sent `private, no-store` and
`noindex`: nothing of it may be kept by a shared cache or a search engine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed

from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings import personal, preferences, site, tokens

DAYS = 14


@dataclass(frozen=True)
class Reader:
    """The feed's owner and the site's address as the request reached it (a Feed
    instance serves every request, from any thread: nothing per request lives on it)."""

    user: Any
    base: str

    def absolute(self, path: str) -> str:
        return self.base + path

    def lines(self, lines: list[dict]) -> list[dict]:
        return [{**s, "url": self.absolute(reverse("article", args=[s["article"]]))} for s in lines]


class BriefingFeed(Feed):
    description = "Your newsdesk briefings: what is new on the stories you follow, and each day's top stories."

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        response["X-Robots-Tag"] = "noindex"
        return response

    def get_object(self, request: HttpRequest, token: str) -> Reader:
        found = tokens.read_feed_token(token)
        if found is None:
            raise ObjectDoesNotExist
        user_id, version = found
        choice = preferences.of_user(user_id)
        if not choice.feed_on or choice.feed_version != version or choice.pk is None:
            raise ObjectDoesNotExist
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise ObjectDoesNotExist
        return Reader(user, request.build_absolute_uri("/").rstrip("/"))

    def title(self, obj: Reader) -> str:
        return f"newsdesk briefing for {obj.user.get_username()}"

    def link(self, obj: Reader) -> str:
        return reverse("briefings:briefing")

    def items(self, obj: Reader) -> list[dict]:
        mutes = mute_rules.of_user(obj.user.pk)
        found = []
        updates = personal.whats_new(obj.user.pk, mutes=mutes)
        if updates:
            latest = max(datetime.fromisoformat(u["latest"]) for u in updates)
            digest = hashlib.sha256(repr([(u["story"], u["latest"]) for u in updates]).encode()).hexdigest()[:16]
            found.append(
                {
                    "title": "What's new on the stories you follow",
                    "link": reverse("briefings:briefing"),
                    "guid": f"briefing-personal-{obj.user.pk}-{digest}",
                    "pubdate": latest,
                    "html": self._render(
                        updates=[
                            {
                                **u,
                                "url": obj.absolute(reverse("story", args=[u["story"]])),
                                "sentences": obj.lines(u["sentences"]),
                                "headlines": obj.lines(u.get("headlines", [])),
                            }
                            for u in updates
                        ]
                    ),
                }
            )
        site.current()
        for day in site.recent(DAYS):
            stories = site.for_reader(day.stories, mutes)
            if not stories:
                continue
            found.append(
                {
                    "title": f"Briefing for {day.day:%A %-d %B %Y}",
                    "link": reverse("briefings:briefing-day", args=[day.day.isoformat()]),
                    "guid": f"briefing-site-{day.day.isoformat()}",
                    "pubdate": day.made_at,
                    "html": self._render(
                        stories=[
                            {
                                **s,
                                "url": obj.absolute(reverse("story", args=[s["story"]])),
                                "sentences": obj.lines(s["sentences"]),
                            }
                            for s in stories
                        ]
                    ),
                }
            )
        return found

    def _render(self, **context: Any) -> str:
        return render_to_string("briefings/feed_item.html", context)

    def item_title(self, item: dict) -> str:
        return item["title"]

    def item_link(self, item: dict) -> str:
        return item["link"]

    def item_guid(self, item: dict) -> str:
        return item["guid"]

    item_guid_is_permalink = False

    def item_description(self, item: dict) -> str:
        return item["html"]

    def item_pubdate(self, item: dict) -> datetime:
        return item["pubdate"] or timezone.now()


class AtomBriefingFeed(BriefingFeed):
    feed_type = Atom1Feed
    subtitle = BriefingFeed.description
