"""A reader's briefing and alert choices, with the defaults for readers who made none,
and their time zone as zoneinfo knows it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone

from newsdesk.reader.briefings.models import BriefingSettings


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name zoneinfo can load here (the system's or tzdata's)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def is_zone(name: str) -> bool:
    return name in set(time_zones()) or name == settings.TIME_ZONE


def zone(name: str) -> ZoneInfo:
    """The reader's zone; the site's when unset or no longer known."""
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def of_user(user_id: int) -> BriefingSettings:
    """The reader's row, unsaved with the defaults when they have none."""
    return of_users([user_id])[user_id]


def of_users(user_ids: list[int]) -> dict[int, BriefingSettings]:
    """`of_user` for many readers in one query."""
    found = {row.user_id: row for row in BriefingSettings.objects.filter(user_id__in=user_ids)}
    return {pk: found.get(pk) or BriefingSettings(user_id=pk) for pk in user_ids}


def save(row: BriefingSettings, **changes: object) -> BriefingSettings:
    """Store changes to the reader's row (creating it), idempotently."""
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = timezone.now()
    if row.pk is None:
        found, created = BriefingSettings.objects.get_or_create(
            user_id=row.user_id,
            defaults={
                f.name: getattr(row, f.name)
                for f in BriefingSettings._meta.concrete_fields
                if f.name not in ("id", "user")
            },
        )
        if created:
            return found
        row.pk = found.pk
    row.save()
    return row


def local_now(row: BriefingSettings, now: datetime | None = None) -> datetime:
    return (now or timezone.now()).astimezone(zone(row.time_zone))
