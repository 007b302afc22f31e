"""Loading the bundled open data file of source profiles (data/profiles.json).

The file describes the default publishers (newsdesk/sources/publishers.json) by slug:
each fact a value and the link it comes from, a fact left out when no source could
justify it. Loading is idempotent and never overwrites staff: `SourceProfile.loaded`
keeps what the file last set for each field, and a field is only written while it
still holds that value (or is empty and was never loaded). So a newer file updates the
facts nobody touched, and a fact staff corrected stays corrected.

When it runs (apps.py): after every `migrate` (so `newsdesk up`, which migrates first,
brings an existing database up to the file), and when a publisher the file knows is
created (the default publishers are created after the first migrate).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from newsdesk.perspectives.models import FACTS, SOURCE_FIELD, OutletKind, SourceProfile
from newsdesk.sources.models import Source

DATA_FILE = "data/profiles.json"


class ProfileDataError(ValueError):
    """The data file says something a profile cannot hold; names the entry and fact."""


@cache
def bundled() -> dict[str, dict[str, Any]]:
    """The bundled file's profiles by slug, as field values (checked once per process)."""
    text = resources.files("newsdesk.perspectives").joinpath(DATA_FILE).read_text("utf-8")
    return parse(json.loads(text))


def read_file(path: str | Path) -> dict[str, dict[str, Any]]:
    return parse(json.loads(Path(path).read_text("utf-8")))


def parse(data: Any) -> dict[str, dict[str, Any]]:
    """{"profiles": [{"slug": ..., "owner": {"value": ..., "source": url}, ...}]} ->
    {slug: {"owner": ..., "owner_source": url, ...}}, refusing what a field cannot hold."""
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), list):
        raise ProfileDataError('expected an object with a "profiles" list')
    found: dict[str, dict[str, Any]] = {}
    for n, entry in enumerate(data["profiles"]):
        slug = entry.get("slug") if isinstance(entry, dict) else None
        if not isinstance(slug, str) or not slug:
            raise ProfileDataError(f"profile {n}: no slug")
        fields: dict[str, Any] = {}
        for fact in FACTS:
            item = entry.get(fact)
            if item is None:
                continue
            if not isinstance(item, dict) or "value" not in item:
                raise ProfileDataError(f"{slug}: {fact} must be {{'value': ..., 'source': url}}")
            value, source = item["value"], item.get("source", "")
            fields[fact] = _checked(slug, fact, value)
            if not isinstance(source, str) or (source and not source.startswith(("https://", "http://"))):
                raise ProfileDataError(f"{slug}: the source of {fact} must be an http(s) URL")
            if fields[fact] not in ("", None) and not source:
                raise ProfileDataError(f"{slug}: {fact} has no source")
            fields[SOURCE_FIELD[fact]] = source
        found[slug] = fields
    return found


def _checked(slug: str, fact: str, value: Any) -> Any:
    limits = {field.name: field for field in SourceProfile._meta.concrete_fields}
    if fact == "founded":
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and 1500 <= value <= 2100):
            return value
        raise ProfileDataError(f"{slug}: founded must be a year")
    if not isinstance(value, str):
        raise ProfileDataError(f"{slug}: {fact} must be text")
    if fact == "kind" and value and value not in OutletKind.values:
        raise ProfileDataError(f"{slug}: unknown kind {value!r} (one of {', '.join(OutletKind.values)})")
    if fact == "country":
        value = value.upper()
    if len(value) > (limits[fact].max_length or 0):
        raise ProfileDataError(f"{slug}: {fact} is longer than {limits[fact].max_length} characters")
    return value


def apply(profile: SourceProfile, fields: dict[str, Any]) -> bool:
    """Set the file's `fields` on `profile` where staff have not changed them; True when
    something changed. Does not save."""
    loaded = dict(profile.loaded or {})
    changed = False
    for name, value in fields.items():
        current = getattr(profile, name)
        untouched = current == loaded.get(name, _empty(name))
        if untouched and current != value:
            setattr(profile, name, value)
            changed = True
        if untouched and loaded.get(name, _MISSING) != value:
            loaded[name] = value
            changed = True
    profile.loaded = loaded
    return changed


_MISSING = object()


def _empty(name: str) -> Any:
    return None if name == "founded" else ""


def load(data: dict[str, dict[str, Any]] | None = None, *, sources: list[Source] | None = None) -> int:
    """Bring the profiles of existing publishers up to `data` (the bundled file by
    default); `sources`: only these. Returns how many profiles were created or changed."""
    data = bundled() if data is None else data
    if sources is None:
        sources = list(Source.objects.filter(slug__in=list(data)))
    sources = [s for s in sources if s.slug in data]
    if not sources:
        return 0
    count = 0
    with transaction.atomic():
        existing = {p.source_id: p for p in SourceProfile.objects.filter(source__in=sources)}
        for source in sources:
            profile = existing.get(source.pk) or SourceProfile(source=source)
            if apply(profile, data[source.slug]) or profile.pk is None:
                profile.updated_at = timezone.now()
                profile.save()
                count += 1
    return count
