"""Following and muting what a reader cares about: sources, hashtags, sections, stories,
saved searches and words.

One place decides what a kind/key pair names (`resolve`: it must exist, and keys are
normalised so that "#Kyiv" and "kyiv" are one hashtag), so that the site's buttons, the
Following page and the API all store the same rows. Following a source is a `Follow`
(follows.py: a reader app's subscription, with its read watermark); everything else is
an `Interest` row (see its docstring in models.py for the contract other parts of the
reader build on). Every change is idempotent: following twice is following once, and
removing what is not there is not an error. Muting replaces a follow of the same thing
and following replaces a mute, so one thing is never both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from newsdesk import plain_rows
from newsdesk.ai.sections import SECTIONS
from newsdesk.articles.models import Hashtag
from newsdesk.reader import follows
from newsdesk.reader.models import Follow, Interest
from newsdesk.search.forms import SearchForm
from newsdesk.search.types import SearchFilters
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

Kind = Interest.Kind
FOLLOWABLE = frozenset({Kind.SOURCE, Kind.HASHTAG, Kind.SECTION, Kind.STORY, Kind.SEARCH})
MUTABLE = frozenset({Kind.SOURCE, Kind.HASHTAG, Kind.SECTION, Kind.WORD})
MAX_PER_READER = 500  # interest rows (follows of sources are counted apart, as before)
MAX_WORD = 60
MAX_LABEL = 200
# The search form's fields, in the order a saved search's label names them.
SEARCH_FIELDS = ("q", "source", "section", "hashtag", "language", "since", "until")


class InterestError(ValueError):
    """What the reader asked for cannot be followed or muted; the message says why."""


@dataclass(frozen=True)
class Target:
    """A thing to follow or mute: its kind, its normalised key, what the reader sees, and
    the page that lists it (empty for a word)."""

    kind: str
    key: str
    label: str
    url: str

    @property
    def dom_id(self) -> str:
        """An HTML id for its buttons: keys hold anything (a search's query string)."""
        return f"reader-interest-{self.kind}-{hashlib.blake2b(self.key.encode(), digest_size=6).hexdigest()}"


# --- what a kind/key pair names --------------------------------------------------------


def resolve(kind: str, key: str | int) -> Target:
    """The thing `kind`/`key` names, normalised; InterestError when there is no such
    thing or the key is not one this kind takes."""
    key = str(key).strip()
    if kind not in Kind.values:
        raise InterestError(f"“{kind}” is not something to follow or mute: use one of {', '.join(Kind.values)}.")
    if not key:
        raise InterestError("Say what to follow or mute: the key is empty.")
    if len(key) > 500:
        raise InterestError("That key is too long (at most 500 characters).")
    if kind == Kind.SOURCE:
        source = Source.objects.filter(slug=key.lower()).only("slug", "name").first()
        if source is None:
            raise InterestError(f"There is no source “{key}”.")
        return Target(kind, source.slug, source.name[:MAX_LABEL], reverse("source", args=[source.slug]))
    if kind == Kind.HASHTAG:
        slug = key.lstrip("#").lower()
        tag = Hashtag.objects.filter(slug=slug).only("slug", "name").first()
        if tag is None:
            raise InterestError(f"There is no hashtag #{slug}.")
        return Target(kind, tag.slug, f"#{tag.name}"[:MAX_LABEL], reverse("hashtag", args=[tag.slug]))
    if kind == Kind.SECTION:
        section = key.lower()
        if section not in SECTIONS:
            raise InterestError(f"There is no section “{key}”: the sections are {', '.join(SECTIONS)}.")
        return Target(kind, section, section.capitalize(), reverse("section", args=[section]))
    if kind == Kind.STORY:
        if not key.isdigit() or len(key) > 18:
            raise InterestError("A story is given by its number.")
        story = _final_story(int(key))
        if story is None:
            raise InterestError(f"There is no story {key}.")
        return Target(kind, str(story.pk), story.title[:MAX_LABEL], reverse("story", args=[story.pk]))
    if kind == Kind.SEARCH:
        search = search_key(QueryDict(key.lstrip("?")))
        return Target(kind, search, describe_search(search), f"{reverse('search:search')}?{search}")
    word = " ".join(key.lower().split())
    if not 2 <= len(word) <= MAX_WORD or not any(ch.isalnum() for ch in word):
        raise InterestError(f"A muted word has 2 to {MAX_WORD} characters, with at least one letter or digit.")
    return Target(kind, word, word, "")


def _final_story(pk: int) -> Story | None:
    """The story a followed number names now: a merged story's survivor."""
    story = Story.objects.filter(pk=pk).only("title", "merged_into_id").first()
    seen: set[int] = set()
    while story is not None and story.merged_into_id and story.pk not in seen:
        seen.add(story.pk)
        story = Story.objects.filter(pk=story.merged_into_id).only("title", "merged_into_id").first()
    return story


def search_key(params: Mapping[str, str] | QueryDict) -> str:
    """A search with its filters as the stable key of a saved search: the search page's
    query string, keys sorted, empty ones left out, each value as the form cleaned it
    ("#Kyiv" is "kyiv"). InterestError when it has no words or a filter is invalid."""
    data = params if isinstance(params, QueryDict) else _query_dict(params)
    form = SearchForm({name: data.get(name, "") for name in SEARCH_FIELDS})
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        raise InterestError(f"That search cannot be saved: {problems}")
    return key_of_search(form.cleaned_data)


def key_of_search(cleaned_data: Mapping[str, Any]) -> str:
    """The saved-search key of a search form's cleaned data: the search page, which has
    validated its form already, takes the key from it instead of validating a second one."""
    cleaned = {name: cleaned_data.get(name) for name in SEARCH_FIELDS}
    if not cleaned["q"]:
        raise InterestError("A saved search needs words to search for.")
    pairs = [
        (name, value.isoformat() if hasattr(value, "isoformat") else str(value))
        for name, value in cleaned.items()
        if value
    ]
    return urlencode(sorted(pairs))


def search_of(key: str) -> tuple[str, SearchFilters]:
    """A stored saved search's words and filters, read back without the search form (its
    key was cleaned by the form when it was saved); a value that no longer reads as one is
    left out."""
    values = dict(parse_qsl(key))
    dates = {}
    for name in ("since", "until"):
        try:
            dates[name] = date.fromisoformat(values[name]) if values.get(name) else None
        except ValueError:
            dates[name] = None
    filters = SearchFilters(
        source=values.get("source") or None,
        section=values.get("section") or None,
        hashtag=values.get("hashtag") or None,
        language=values.get("language") or None,
        **dates,
    )
    return values.get("q", ""), filters


def _query_dict(params: Mapping[str, str]) -> QueryDict:
    found = QueryDict(mutable=True)
    for name, value in params.items():
        found[name] = value
    return found


def describe_search(key: str) -> str:
    """A saved search in words: “oil prices” in Business, from BBC News, since 2025-01-01."""
    values = dict(parse_qsl(key))
    parts = [f"“{values.get('q', '')}”"]
    if section := values.get("section"):
        parts.append(f"in {section.capitalize()}")
    if slug := values.get("source"):
        name = Source.objects.filter(slug=slug).values_list("name", flat=True).first() or slug
        parts.append(f"from {name}")
    if hashtag := values.get("hashtag"):
        parts.append(f"with #{hashtag}")
    if language := values.get("language"):
        parts.append(f"in language {language}")
    if since := values.get("since"):
        parts.append(f"since {since}")
    if until := values.get("until"):
        parts.append(f"until {until}")
    return " ".join(parts)[:MAX_LABEL]


# --- changes -------------------------------------------------------------------------------


def follow(user: AbstractBaseUser, kind: str, key: str | int) -> Target:
    """Follow the thing (a mute of it is lifted); following it again changes nothing."""
    target = resolve(kind, key)
    if target.kind not in FOLLOWABLE:
        raise InterestError("Words can be muted, not followed: search for them and follow the search.")
    if target.kind == Kind.SOURCE:
        source = Source.objects.get(slug=target.key)
        Interest.objects.filter(user=user, kind=Kind.SOURCE, key=target.key).delete()
        follows.follow(user, source)
        return target
    _put(user, target, muted=False)
    return target


def mute(user: AbstractBaseUser, kind: str, key: str | int) -> Target:
    """Mute the thing (a follow of it is dropped); muting it again changes nothing."""
    target = resolve(kind, key)
    if target.kind not in MUTABLE:
        raise InterestError("Only sources, hashtags, sections and words can be muted.")
    if target.kind == Kind.SOURCE:
        Follow.objects.filter(user=user, source__slug=target.key).delete()
    _put(user, target, muted=True)
    return target


def unfollow(user: AbstractBaseUser, kind: str, key: str | int) -> Target:
    target = resolve(kind, key)
    if target.kind == Kind.SOURCE:
        Follow.objects.filter(user=user, source__slug=target.key).delete()
    else:
        Interest.objects.filter(user=user, kind=target.kind, key=target.key, muted=False).delete()
    return target


def unmute(user: AbstractBaseUser, kind: str, key: str | int) -> Target:
    target = resolve(kind, key)
    Interest.objects.filter(user=user, kind=target.kind, key=target.key, muted=True).delete()
    return target


def _put(user: AbstractBaseUser, target: Target, *, muted: bool) -> Interest:
    found = Interest.objects.filter(user=user, kind=target.kind, key=target.key).first()
    if found is None:
        if Interest.objects.filter(user=user).count() >= MAX_PER_READER:
            raise InterestError(
                f"You follow or mute {MAX_PER_READER} things, the most we keep: remove some on your Following page first."
            )
        now = timezone.now()
        try:
            with transaction.atomic():
                return Interest.objects.create(
                    user=user,
                    kind=target.kind,
                    key=target.key,
                    label=target.label,
                    muted=muted,
                    created_at=now,
                    seen_at=now,
                )
        except IntegrityError:  # the same change twice at once: the first one counts
            found = Interest.objects.get(user=user, kind=target.kind, key=target.key)
    changed = []
    if found.muted != muted:
        found.muted = muted
        found.created_at = found.seen_at = timezone.now()  # a new follow starts from now
        changed += ["muted", "created_at", "seen_at"]
    if found.label != target.label:
        found.label = target.label
        changed.append("label")
    if changed:
        found.save(update_fields=changed)
    return found


# --- reading ---------------------------------------------------------------------------------


def status(user: AbstractBaseUser | None, target: Target) -> str:
    """ "following", "muted" or "" for this reader and thing."""
    if user is None:
        return ""
    if target.kind == Kind.SOURCE and Follow.objects.filter(user=user, source__slug=target.key).exists():
        return "following"
    found = stored(user, target.kind, target.key)
    if found is None:
        return ""
    return "muted" if found.muted else "following"


def stored(user: AbstractBaseUser, kind: str, key: str) -> Interest | None:
    """The reader's interest in one thing, if any (its pk, muted and seen_at read), on
    every listing page a signed-in reader opens: its follow button, its "new" marker."""
    return cast(
        "Interest | None", plain_rows.first(Interest, ("id", "muted", "seen_at"), user=user.pk, kind=kind, key=key)
    )


def url_of(kind: str, key: str) -> str:
    """The listing page of a stored interest, without a query (for pages of many rows)."""
    return _url_of(get_script_prefix(), kind, key)


@lru_cache(maxsize=20_000)
def _url_of(prefix: str, kind: str, key: str) -> str:
    # Remembered per URL prefix: an unread-count poll lists about 20 things, and
    # reversing each cost more than counting it.
    if kind == Kind.SOURCE:
        return reverse("source", args=[key])
    if kind == Kind.HASHTAG:
        return reverse("hashtag", args=[key])
    if kind == Kind.SECTION:
        return reverse("section", args=[key]) if key in SECTIONS else ""
    if kind == Kind.STORY:
        return reverse("story", args=[int(key)]) if key.isdigit() else ""
    if kind == Kind.SEARCH:
        return f"{reverse('search:search')}?{key}"
    return ""
