"""What the reader's buttons on the site's pages show, for the template tags that put
them there and for the views that answer an htmx request with the same piece again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newsdesk.reader import follows
from newsdesk.reader.models import Saved

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from newsdesk.articles.models import Article
    from newsdesk.sources.models import Source

FOLLOW = "reader/_follow.html"
ARTICLE = "reader/_article_actions.html"


def follow_context(user: AbstractBaseUser | None, source: Source, next_url: str) -> dict[str, Any]:
    return {
        "reader": user,
        "source": source,
        "following": user is not None and follows.is_following(user, source),
        "next": next_url,
    }


def article_context(user: AbstractBaseUser | None, article: Article, next_url: str) -> dict[str, Any]:
    if user is None:
        return {"reader": None}
    return {
        "reader": user,
        "article": article,
        "saved": Saved.objects.filter(user=user, article=article).first(),
        "next": next_url,
    }
