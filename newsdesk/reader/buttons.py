"""What the follow/mute buttons and For You's feedback buttons show, for the template
tags that put them on pages and for the views that answer htmx with them again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newsdesk.reader import interests, nudges

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from newsdesk.articles.models import Article

INTEREST = "reader/_interest.html"
NUDGE = "reader/_nudge.html"
# How a button names the thing: a hashtag by its label, a story or search as "this ...".
SHORT_NAMES = {"story": "this story", "search": "this search"}


def interest_context(
    user: AbstractBaseUser | None, target: interests.Target, next_url: str, show: str = ""
) -> dict[str, Any]:
    """`show`: "follow" or "mute" to offer only that button (a source page has its own
    follow button); empty for every button the kind takes."""
    return {
        "reader": user,
        "target": target,
        "name": SHORT_NAMES.get(target.kind, target.label),
        "status": interests.status(user, target),
        "can_follow": target.kind in interests.FOLLOWABLE and show != "mute",
        "can_mute": target.kind in interests.MUTABLE and show != "follow",
        "show": show,
        "next": next_url,
    }


def nudge_context(user: AbstractBaseUser, article: Article, next_url: str) -> dict[str, Any]:
    return {
        "reader": user,
        "article": article,
        "nudged": nudges.current(user, [article.pk]).get(article.pk),
        "next": next_url,
    }
