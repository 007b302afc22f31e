"""Which articles a stream id names, filtered as stream/items/ids and stream/contents
are asked: `xt`/`it` (exclude or include read, starred), `ot`/`nt` (published after,
before; seconds), `r=o` (oldest first), `n` (how many) and `c` (continuation: the
offset of the next page, a number as Miniflux sends it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from newsdesk.articles.models import Article
from newsdesk.reader import state
from newsdesk.reader.follows import source_by_feed_url
from newsdesk.reader.greader import ids
from newsdesk.reader.models import Follow, Saved

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import QueryDict

DEFAULT_COUNT = 20
MAX_COUNT = 1000  # NetNewsWire and Reeder ask for 1,000 ids a page; more is refused down to it
MAX_OFFSET = 10**9


class UnknownStream(Exception):
    pass


@dataclass
class Stream:
    id: str
    title: str
    articles: QuerySet[Article]
    follows: list[Follow]  # the followed sources it covers, for mark-all-as-read


def follows_of(user: AbstractBaseUser) -> list[Follow]:
    return list(Follow.objects.filter(user=user).select_related("source"))


def resolve(user: AbstractBaseUser, stream_id: str, follows: list[Follow] | None = None) -> Stream:
    """The articles of a stream, unfiltered and unordered; UnknownStream when it names
    nothing this reader has."""
    follows = follows if follows is not None else follows_of(user)
    stream_id = ids.normalise_stream(stream_id)
    if stream_id in ("", ids.READING_LIST):
        chosen = follows
        articles = Article.objects.filter(source_id__in=[f.source_id for f in chosen])
        return Stream(ids.READING_LIST, "Reading list", articles, chosen)
    if stream_id == ids.STARRED:
        saved = Saved.objects.filter(user=user).values("article_id")
        return Stream(stream_id, "Saved", Article.objects.filter(pk__in=saved), [])
    if stream_id == ids.READ:
        articles = Article.objects.filter(source_id__in=[f.source_id for f in follows]).filter(
            state.read_q(user, follows)
        )
        return Stream(stream_id, "Read", articles, [])
    if stream_id.startswith(ids.LABEL):
        name = stream_id[len(ids.LABEL) :]
        chosen = [f for f in follows if f.category == name]
        if not chosen:
            raise UnknownStream(stream_id)
        return Stream(stream_id, name, Article.objects.filter(source_id__in=[f.source_id for f in chosen]), chosen)
    if stream_id.startswith(ids.FEED):
        key = stream_id[len(ids.FEED) :]
        chosen = [f for f in follows if (key.isdigit() and f.source_id == int(key))]
        if not chosen:
            source = source_by_feed_url(key)
            chosen = [f for f in follows if source is not None and f.source_id == source.pk]
        if not chosen:
            raise UnknownStream(stream_id)
        source = chosen[0].source
        return Stream(ids.feed(source.pk), source.name, Article.objects.filter(source=source), chosen)
    raise UnknownStream(stream_id)


def _seconds(value: str | None) -> datetime | None:
    if not value or not value.strip().lstrip("-").isdigit():
        return None
    number = int(value)
    if number > 10**14:  # microseconds, as some apps send them
        number //= 10**6
    elif number > 10**11:  # milliseconds
        number //= 10**3
    try:
        return datetime.fromtimestamp(max(0, number), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _int(value: str | None, default: int, high: int) -> int:
    if value and value.strip().isdigit():
        return min(int(value), high)
    return default


def filtered(user: AbstractBaseUser, stream: Stream, params: QueryDict, follows: list[Follow]) -> QuerySet[Article]:
    """The stream's articles under the request's filters, in the order asked."""
    articles = stream.articles
    read = state.read_q(user, follows)
    starred = Q(pk__in=Saved.objects.filter(user=user).values("article_id"))
    for target in params.getlist("xt"):
        target = ids.normalise_stream(target)
        if target == ids.READ:
            articles = articles.exclude(read)
        elif target == ids.STARRED:
            articles = articles.exclude(starred)
    for target in params.getlist("it"):
        target = ids.normalise_stream(target)
        if target == ids.READ:
            articles = articles.filter(read)
        elif target == ids.STARRED:
            articles = articles.filter(starred)
        elif target == ids.KEPT_UNREAD:
            articles = articles.exclude(read)
    if after := _seconds(params.get("ot")):
        articles = articles.filter(published_at__gte=after)
    if before := _seconds(params.get("nt")):
        articles = articles.filter(published_at__lt=before)
    if params.get("r") == "o":
        return articles.order_by("published_at", "pk")
    return articles.order_by("-published_at", "-pk")


def page(articles: QuerySet[Any], params: QueryDict) -> tuple[list[Any], str]:
    """One page of `articles` and the continuation for the next ('' when none)."""
    count = _int(params.get("n"), DEFAULT_COUNT, MAX_COUNT) or DEFAULT_COUNT
    offset = _int(params.get("c"), 0, MAX_OFFSET)
    rows = list(articles[offset : offset + count + 1])
    more = len(rows) > count
    return rows[:count], str(offset + count) if more else ""
