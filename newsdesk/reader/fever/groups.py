"""Fever's groups are the reader's folders, which are names, not rows: a group's id is
a number derived from its name, the same on every request and every device, so an app
can keep it between syncs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from newsdesk.reader.models import Follow

ALL = 0  # Fever's "Kindling": every feed
SPARKS = -1  # Fever's "Sparks" (feeds of hot links only): we have none


def group_id(name: str) -> int:
    """A positive id below 2**28 (any client's integers hold it), from the folder name.
    Two folders of one reader sharing an id would take 28 bits of luck."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:7], 16) + 1


def by_group(follows: Iterable[Follow]) -> dict[int, tuple[str, list[Follow]]]:
    """Group id -> (folder name, its follows), folders by name; follows outside any
    folder belong to no group (only to Kindling), as Fever allows."""
    groups: dict[int, tuple[str, list[Follow]]] = {}
    for follow in sorted(follows, key=lambda f: (f.category, f.source_id)):
        if follow.category:
            groups.setdefault(group_id(follow.category), (follow.category, []))[1].append(follow)
    return groups


def follows_in(follows: list[Follow], group: int) -> list[Follow]:
    """The follows a group id covers: all of them for Kindling, none for Sparks or an
    unknown id."""
    if group == ALL:
        return follows
    found = by_group(follows).get(group)
    return found[1] if found else []
