"""Every publisher's profile as pages read it, from one lookup remembered per process.

A byline on an article page, a story's breakdown and the blindspot rules all need the
profiles of many publishers at once. They are read in one query (publishers with their
profiles) and kept in this process for `MEMO_SECONDS`; saving or deleting a publisher or
a profile forgets them at once in the process that saved (signals in apps.py), other
processes see the change within `MEMO_SECONDS`. So a page asks the database nothing for
the profiles of its bylines: one dictionary lookup each.

A fact the profile leaves blank falls back to the publisher's own row (country,
language, kind), so a publisher nobody has described yet still has a country and kind.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from newsdesk.perspectives.models import FACTS, SOURCE_FIELD, OutletKind, SourceProfile
from newsdesk.perspectives.regions import country_name, language_name, region_name, region_of
from newsdesk.sources.models import Source

MEMO_SECONDS = 60.0

# The outlet kinds' labels, and the short forms shown beside bylines.
KIND_LABELS = dict(OutletKind.choices)
SHORT_KIND = {
    "wire": "wire service",
    "public": "public broadcaster",
    "commercial": "commercial",
    "state": "state-affiliated",
    "independent": "independent",
    "blog": "blog",
}


@dataclass(frozen=True)
class Profile:
    source_id: int
    slug: str
    name: str
    country: str = ""
    language: str = ""
    kind: str = ""
    owner: str = ""
    parent_company: str = ""
    founded: int | None = None
    sources: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    profile_id: int | None = None  # its SourceProfile row, if it has one (from the data file or staff)

    # Derived once, as the profile is made: breakdowns read them for many stories at a time.
    region: str = field(init=False, compare=False)
    country_name: str = field(init=False, compare=False)
    region_name: str = field(init=False, compare=False)
    language_name: str = field(init=False, compare=False)
    kind_label: str = field(init=False, compare=False)
    kind_short: str = field(init=False, compare=False)
    owner_group: str = field(init=False, compare=False)  # the parent company, else the owner

    def __post_init__(self) -> None:
        derived = {
            "region": region_of(self.country),
            "country_name": country_name(self.country) if self.country else "",
            "language_name": language_name(self.language),
            "kind_label": KIND_LABELS.get(self.kind, self.kind),
            "kind_short": SHORT_KIND.get(self.kind, self.kind),
            "owner_group": self.parent_company or self.owner,
        }
        derived["region_name"] = region_name(derived["region"])
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def described(self) -> bool:
        return self.profile_id is not None

    def as_data(self) -> dict:
        """Plain data for the API."""
        return {
            "country": self.country,
            "country_name": self.country_name,
            "region": self.region,
            "region_name": self.region_name,
            "language": self.language,
            "language_name": self.language_name,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "owner": self.owner,
            "parent_company": self.parent_company,
            "founded": self.founded,
            "sources": dict(self.sources),
            "described": self.described,
        }

    def facts(self) -> list[dict]:
        """The profile's facts in page order: label, shown value, link (or "")."""
        values = {
            "country": self.country_name,
            "language": self.language_name,
            "kind": self.kind_label,
            "owner": self.owner,
            "parent_company": self.parent_company,
            "founded": str(self.founded) if self.founded else "",
        }
        labels = {
            "country": "Country",
            "language": "Language",
            "kind": "Kind",
            "owner": "Owner",
            "parent_company": "Parent company",
            "founded": "Founded",
        }
        return [
            {"key": fact, "label": labels[fact], "value": values[fact], "source": self.sources.get(fact, "")}
            for fact in FACTS
        ]


_SOURCE_COLUMNS = ("id", "slug", "name", "country", "language", "kind")
_PROFILE_COLUMNS = ("country", "language", "kind", "owner", "parent_company", "founded") + tuple(
    SOURCE_FIELD[fact] for fact in FACTS
)


def build(source: dict, profile: dict | None) -> Profile:
    """A publisher's profile from its row and its profile's row (either as a dict)."""
    profile = profile or {}
    return Profile(
        source_id=source["id"],
        slug=source["slug"],
        name=source["name"],
        country=(profile.get("country") or source["country"] or "").upper(),
        language=(profile.get("language") or source["language"] or "").lower(),
        kind=profile.get("kind") or source["kind"] or "",
        owner=profile.get("owner") or "",
        parent_company=profile.get("parent_company") or "",
        founded=profile.get("founded") or None,
        sources={fact: profile[SOURCE_FIELD[fact]] for fact in FACTS if profile.get(SOURCE_FIELD[fact])},
        profile_id=profile.get("id"),
    )


def of_source(source: Source) -> Profile:
    """The profile of a publisher the memo does not hold yet (created a moment ago):
    from its own row alone, without a query."""
    return build({column: getattr(source, column) for column in _SOURCE_COLUMNS}, None)


def _read() -> dict[int, Profile]:
    rows = {row["id"]: row for row in Source.objects.values(*_SOURCE_COLUMNS)}
    described = {row["source_id"]: row for row in SourceProfile.objects.values("id", "source_id", *_PROFILE_COLUMNS)}
    return {pk: build(row, described.get(pk)) for pk, row in rows.items()}


class _Memo:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: dict[int, Profile] | None = None
        self.at = 0.0
        self.generation = 0

    def get(self) -> dict[int, Profile]:
        value, at = self.value, self.at
        if value is not None and time.monotonic() - at < MEMO_SECONDS:
            return value
        with self.lock:
            generation = self.generation
        value = _read()
        with self.lock:
            if generation == self.generation:  # not forgotten while we read
                self.value, self.at = value, time.monotonic()
        return value

    def forget(self) -> None:
        with self.lock:
            self.value, self.generation = None, self.generation + 1


_memo = _Memo()


def all_profiles() -> dict[int, Profile]:
    """Every publisher's profile by source id (remembered; see the module's docstring)."""
    return _memo.get()


def profile_of(source: Source | int) -> Profile | None:
    pk = source if isinstance(source, int) else source.pk
    found = all_profiles().get(pk)
    if found is None and isinstance(source, Source):
        return of_source(source)
    return found


def forget(**kwargs: object) -> None:
    """Drop the remembered profiles (a signal receiver: any arguments)."""
    _memo.forget()
