"""Who covers a story: its publishers divided by region (with their countries), language,
kind of outlet and owner, each part with the publishers behind it.

Plain functions over profiles (profiles.py), no queries: a story's publishers come from
`coverage.py`. Shares are of publishers, not articles: a publisher with ten articles on
a story is one voice. A publisher whose fact is not known is counted under "Not known",
so the parts always add up to the publishers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from newsdesk.perspectives.models import OutletKind
from newsdesk.perspectives.profiles import SHORT_KIND, Profile
from newsdesk.perspectives.regions import country_name, language_name, region_name

UNKNOWN = "Not known"
DIMENSIONS = ("region", "kind", "language", "owner")
# Colour classes of a bar's parts (perspectives.css): kinds have their own colours
# everywhere; other dimensions take these in order, largest part first.
PALETTE = 6
KIND_ORDER = list(OutletKind.values)
KIND_NOUNS = {
    "wire": ("wire service", "wire services"),
    "public": ("public broadcaster", "public broadcasters"),
    "commercial": ("commercial", "commercial"),
    "state": ("state-affiliated", "state-affiliated"),
    "independent": ("independent", "independent"),
    "blog": ("blog", "blogs"),
}


@dataclass
class Part:
    key: str
    label: str
    publishers: list[Profile]
    total: int
    colour: str = ""
    width: int = 0  # its segment of the bar, in whole percent (the segments add up to 100)
    sub: list[Part] = field(default_factory=list)  # a region's countries

    @property
    def count(self) -> int:
        return len(self.publishers)

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.share)


@dataclass
class Dimension:
    key: str
    title: str
    parts: list[Part]

    @property
    def known(self) -> list[Part]:
        return [part for part in self.parts if part.key]


class Breakdown:
    """The publishers of a story and their parts in each dimension, each dimension
    worked out when first read: the blindspot rules read two of them for many stories,
    a story page all four for one."""

    def __init__(self, publishers: Iterable[Profile]) -> None:
        unique = {p.source_id: p for p in publishers}
        self.publishers = sorted(unique.values(), key=lambda p: p.name.lower())

    @property
    def count(self) -> int:
        return len(self.publishers)

    @cached_property
    def region(self) -> Dimension:
        parts = _parts(self.publishers, lambda p: p.region, region_name)
        for part in parts:
            part.sub = _parts(part.publishers, lambda p: p.country, country_name)
        return Dimension("region", "Region and country", parts)

    @cached_property
    def kind(self) -> Dimension:
        parts = _parts(self.publishers, lambda p: p.kind, lambda k: SHORT_KIND.get(k, k).capitalize(), kinds=True)
        return Dimension("kind", "Kind of outlet", parts)

    @cached_property
    def language(self) -> Dimension:
        parts = _parts(self.publishers, lambda p: p.language.split("-")[0], language_name)
        return Dimension("language", "Language", parts)

    @cached_property
    def owner(self) -> Dimension:
        return Dimension("owner", "Owner or parent company", _parts(self.publishers, lambda p: p.owner_group, str))

    @property
    def dimensions(self) -> list[Dimension]:
        return [self.region, self.kind, self.language, self.owner]

    def dimension(self, key: str) -> Dimension:
        if key not in DIMENSIONS:
            raise KeyError(key)
        return getattr(self, key)

    # Publishers per region and per kind (known ones only), for the blindspot rules,
    # which read these for every story of the week and the full dimensions for none.
    @cached_property
    def region_counts(self) -> Counter[str]:
        return Counter(p.region for p in self.publishers if p.region)

    @cached_property
    def kind_counts(self) -> Counter[str]:
        return Counter(p.kind for p in self.publishers if p.kind)

    @property
    def regions_known(self) -> int:
        return len(self.region_counts)

    def as_data(self) -> dict:
        """Plain data for the API: each dimension's parts with their publishers' slugs;
        the countries as a dimension of their own."""
        dimensions = []
        for dimension in self.dimensions:
            dimensions.append(_dimension_data(dimension.key, dimension.title, dimension.parts))
            if dimension.key == "region":
                countries = [country for part in dimension.parts for country in part.sub]
                countries.sort(key=lambda p: (not p.key, -p.count, p.label.lower()))
                dimensions.append(_dimension_data("country", "Country", countries))
        dimensions[0]["title"] = "Region"
        return {"publishers": self.count, "dimensions": dimensions}

    def kind_words(self) -> str:
        """The kinds in a few words: "3 commercial, 2 public broadcasters, 1 state-affiliated"."""
        words = []
        for part in self.kind.parts:
            singular, plural = KIND_NOUNS.get(part.key, ("not known", "not known"))
            words.append(f"{part.count} {singular if part.count == 1 else plural}")
        return ", ".join(words)


def _parts(
    publishers: list[Profile],
    key: Callable[[Profile], str],
    label: Callable[[str], str],
    *,
    kinds: bool = False,
) -> list[Part]:
    groups: dict[str, list[Profile]] = defaultdict(list)
    for profile in publishers:
        groups[key(profile)].append(profile)
    total = len(publishers)
    parts = [
        Part(k, label(k) if k else UNKNOWN, sorted(members, key=lambda p: p.name.lower()), total)
        for k, members in groups.items()
    ]
    # Largest first, "Not known" last; kinds of equal size in their usual order.
    if kinds:
        parts.sort(key=lambda p: (not p.key, -p.count, KIND_ORDER.index(p.key) if p.key in KIND_ORDER else 99))
    else:
        parts.sort(key=lambda p: (not p.key, -p.count, p.label.lower()))
    _widths(parts)
    for n, part in enumerate(parts):
        if not part.key:
            part.colour = "unknown"
        elif kinds:
            part.colour = f"k-{part.key}" if part.key in KIND_ORDER else "unknown"
        else:
            part.colour = f"c{n % PALETTE}"
    return parts


def _widths(parts: list[Part]) -> None:
    """Whole percents that add up to 100 (largest remainders), each part at least 1: the
    page's Content-Security-Policy allows no inline style, so a segment's width is one of
    the classes w-1 ... w-100 of perspectives.css."""
    if not parts:
        return
    exact = [100 * part.share for part in parts]
    widths = [max(1, int(x)) for x in exact]
    by_remainder = sorted(range(len(parts)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    n = 0
    while sum(widths) < 100:
        widths[by_remainder[n % len(parts)]] += 1
        n += 1
    while sum(widths) > 100:  # the at-least-1 rule took some: give back from the largest
        widths[max(range(len(parts)), key=lambda i: widths[i])] -= 1
    for part, width in zip(parts, widths, strict=True):
        part.width = width


def breakdown(publishers: Iterable[Profile]) -> Breakdown:
    """The breakdown of these publishers (each once, by name)."""
    return Breakdown(publishers)


def _dimension_data(key: str, title: str, parts: list[Part]) -> dict:
    return {
        "key": key,
        "title": title,
        "parts": [
            {
                "key": part.key,
                "label": part.label,
                "count": part.count,
                "share": round(part.share, 4),
                "publishers": [p.slug for p in part.publishers],
            }
            for part in parts
        ],
    }
