"""Blindspots: stories covered mostly by one group of outlets, or missing from one.

Each rule is simple, has its thresholds as the named constants below, and says in plain
words why it flags a story. Groups are the regions and kinds of outlet of the
publishers' profiles (profiles.py); "newsdesk's publishers" are all the publishers the
site has, the baseline a concentration is measured against: a story covered only by
European outlets says little on a site whose publishers are nearly all European.

The rules:
- only state-affiliated: at least STATE_ONLY_MIN_PUBLISHERS publishers, every one of them
  state-affiliated;
- mostly one region / mostly one kind: at least CONCENTRATION_MIN_PUBLISHERS publishers,
  at least CONCENTRATION_SHARE of them in one region (of one kind), and that share at
  least CONCENTRATION_OVER_BASELINE above the group's share of newsdesk's publishers;
- no <kind> (for each kind in MISSING_KINDS): covered widely (WIDE_MIN_PUBLISHERS
  publishers in WIDE_MIN_REGIONS regions or more) and by none of that kind, although
  newsdesk has at least MISSING_KIND_MIN_ON_SITE of them;
- missing a region: covered widely, by no publisher of a region where newsdesk has at
  least MISSING_REGION_MIN_ON_SITE publishers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from newsdesk.perspectives.breakdown import Breakdown
from newsdesk.perspectives.coverage import breakdowns
from newsdesk.perspectives.profiles import Profile, all_profiles
from newsdesk.perspectives.regions import region_name
from newsdesk.stories.models import Story

STATE_ONLY_MIN_PUBLISHERS = 2
CONCENTRATION_MIN_PUBLISHERS = 4
CONCENTRATION_SHARE = 0.8
CONCENTRATION_OVER_BASELINE = 0.25
WIDE_MIN_PUBLISHERS = 6
WIDE_MIN_REGIONS = 2
MISSING_KINDS = ("public", "state", "wire")
MISSING_KIND_MIN_ON_SITE = 3
MISSING_REGION_MIN_ON_SITE = 5
# Which stories are looked at: those seen in the WINDOW_DAYS up to the newest story (so
# a quiet site still shows its last week), at most MAX_STORIES of them, newest first.
WINDOW_DAYS = 7
MAX_STORIES = 1000

PLURAL_KIND = {
    "wire": "wire services",
    "public": "public broadcasters",
    "commercial": "commercial outlets",
    "state": "state-affiliated outlets",
    "independent": "independent outlets",
    "blog": "blogs",
}
ARTICLE_KIND = {"wire": "a wire service", "public": "a public broadcaster", "state": "a state-affiliated outlet"}


@dataclass(frozen=True)
class Baseline:
    """How newsdesk's publishers divide, to measure a story's concentration against."""

    total: int
    regions: Counter
    kinds: Counter

    @classmethod
    def of(cls, profiles: Iterable[Profile]) -> Baseline:
        profiles = list(profiles)
        return cls(
            total=len(profiles),
            regions=Counter(p.region for p in profiles if p.region),
            kinds=Counter(p.kind for p in profiles if p.kind),
        )

    def share(self, counter: Counter, key: str) -> float:
        return counter[key] / self.total if self.total else 0.0


@dataclass(frozen=True)
class Flag:
    """One rule's finding on one story: which groups (regions or kinds), and why."""

    rule: Rule
    groups: tuple[str, ...]
    statement: str  # why this story, in plain words


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    description: str
    check: Callable[[Breakdown, Baseline], list[Flag]] = field(compare=False, repr=False)


def _pct(share: float) -> str:
    return f"{round(100 * share)}%"


def _names(profiles: list[Profile]) -> str:
    names = [p.name for p in profiles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _state_only(story: Breakdown, site: Baseline) -> list[Flag]:
    if story.count < STATE_ONLY_MIN_PUBLISHERS or any(p.kind != "state" for p in story.publishers):
        return []
    both = "Both" if story.count == 2 else f"All {story.count}"
    statement = f"{both} publishers are state-affiliated: {_names(story.publishers)}."
    return [Flag(STATE_ONLY, ("state",), statement)]


def _concentrated(dimension: str) -> Callable[[Breakdown, Baseline], list[Flag]]:
    def check(story: Breakdown, site: Baseline) -> list[Flag]:
        if story.count < CONCENTRATION_MIN_PUBLISHERS:
            return []
        rule = ONE_REGION if dimension == "region" else ONE_KIND
        counter = site.regions if dimension == "region" else site.kinds
        counts = story.region_counts if dimension == "region" else story.kind_counts
        for key, count in counts.most_common():
            share, baseline = count / story.count, site.share(counter, key)
            if share < CONCENTRATION_SHARE or share < baseline + CONCENTRATION_OVER_BASELINE:
                continue
            if dimension == "kind" and key == "state" and count == story.count:
                continue  # said better by "only state-affiliated"
            where = f"in {region_name(key)}" if dimension == "region" else PLURAL_KIND.get(key, key)
            counted = f"All {story.count}" if count == story.count else f"{count} of {story.count}"
            shown = "" if count == story.count else f" ({_pct(share)})"
            statement = (
                f"{counted} publishers{shown} are {where}, against {_pct(baseline)} of all newsdesk's publishers."
            )
            return [Flag(rule, (key,), statement)]
        return []

    return check


def _wide(story: Breakdown) -> bool:
    return story.count >= WIDE_MIN_PUBLISHERS and story.regions_known >= WIDE_MIN_REGIONS


def _covered(story: Breakdown) -> str:
    return f"Covered by {story.count} publishers in {story.regions_known} regions"


def _missing_kind(story: Breakdown, site: Baseline) -> list[Flag]:
    if not _wide(story):
        return []
    present = story.kind_counts
    missing = [k for k in MISSING_KINDS if k not in present and site.kinds[k] >= MISSING_KIND_MIN_ON_SITE]
    if not missing:
        return []
    absent = " or ".join(f"{ARTICLE_KIND[k]} (newsdesk has {site.kinds[k]})" for k in missing)
    return [Flag(MISSING_KIND, tuple(missing), f"{_covered(story)}, none of them {absent}.")]


def _missing_region(story: Breakdown, site: Baseline) -> list[Flag]:
    if not _wide(story):
        return []
    present = story.region_counts
    missing = [
        region
        for region, count in sorted(site.regions.items(), key=lambda item: (-item[1], item[0]))
        if region not in present and count >= MISSING_REGION_MIN_ON_SITE
    ]
    if not missing:
        return []
    absent = " or ".join(f"in {region_name(r)} (newsdesk has {site.regions[r]} publishers there)" for r in missing)
    return [Flag(MISSING_REGION, tuple(missing), f"{_covered(story)}, none of them {absent}.")]


STATE_ONLY = Rule(
    "state-only",
    "Only state-affiliated outlets",
    f"At least {STATE_ONLY_MIN_PUBLISHERS} publishers, and every one of them state-affiliated.",
    _state_only,
)
ONE_REGION = Rule(
    "one-region",
    "Mostly one region",
    f"At least {CONCENTRATION_MIN_PUBLISHERS} publishers, at least {_pct(CONCENTRATION_SHARE)} of them in one "
    f"region, and that share at least {round(100 * CONCENTRATION_OVER_BASELINE)} points above the region's share "
    "of all newsdesk's publishers.",
    _concentrated("region"),
)
ONE_KIND = Rule(
    "one-kind",
    "Mostly one kind of outlet",
    f"At least {CONCENTRATION_MIN_PUBLISHERS} publishers, at least {_pct(CONCENTRATION_SHARE)} of them of one "
    f"kind (commercial, public broadcaster, ...), and that share at least {round(100 * CONCENTRATION_OVER_BASELINE)} "
    "points above that kind's share of all newsdesk's publishers.",
    _concentrated("kind"),
)
MISSING_KIND = Rule(
    "missing-kind",
    "Covered widely, but not by one kind of outlet",
    f"At least {WIDE_MIN_PUBLISHERS} publishers in {WIDE_MIN_REGIONS} regions or more, and among them no "
    + ", or no ".join(ARTICLE_KIND[k].split(" ", 1)[1] for k in MISSING_KINDS)
    + f", although newsdesk has at least {MISSING_KIND_MIN_ON_SITE} of that kind.",
    _missing_kind,
)
MISSING_REGION = Rule(
    "missing-region",
    "Covered widely, but not in one region",
    f"At least {WIDE_MIN_PUBLISHERS} publishers in {WIDE_MIN_REGIONS} regions or more, and none of them in a region "
    f"where newsdesk has at least {MISSING_REGION_MIN_ON_SITE} publishers.",
    _missing_region,
)
RULES = [STATE_ONLY, ONE_REGION, ONE_KIND, MISSING_KIND, MISSING_REGION]


def flags(story: Breakdown, site: Baseline) -> list[Flag]:
    """Every rule's flags for one story's breakdown."""
    return [flag for rule in RULES for flag in rule.check(story, site)]


def site_baseline() -> Baseline:
    return Baseline.of(all_profiles().values())


@dataclass
class Flagged:
    story: Story
    breakdown: Breakdown
    flags: list[Flag]


@dataclass
class Found:
    since: datetime
    until: datetime
    looked_at: int
    flagged: list[Flagged]

    def by_rule(self) -> list[tuple[Rule, list[tuple[Flagged, Flag]]]]:
        """Each rule with its stories (newest first) and the flag that names them."""
        grouped: dict[str, list[tuple[Flagged, Flag]]] = {rule.key: [] for rule in RULES}
        for item in self.flagged:
            for flag in item.flags:
                grouped[flag.rule.key].append((item, flag))
        return [(rule, grouped[rule.key]) for rule in RULES]


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The WINDOW_DAYS looked at: up to now, or up to the newest story when none is recent."""
    until = now or timezone.now()
    shown = Story.objects.filter(merged_into__isnull=True, publisher_count__gte=2)
    if not shown.filter(last_seen__gte=until - timedelta(days=WINDOW_DAYS)).exists():
        until = shown.aggregate(newest=Max("last_seen"))["newest"] or until
    return until - timedelta(days=WINDOW_DAYS), until


def find(now: datetime | None = None) -> Found:
    """The flagged stories of the window, newest first."""
    since, until = window(now)
    stories = list(
        Story.objects.filter(
            merged_into__isnull=True,
            publisher_count__gte=STATE_ONLY_MIN_PUBLISHERS,
            last_seen__gte=since,
        ).order_by("-last_seen", "-pk")[:MAX_STORIES]
    )
    site = site_baseline()
    found = breakdowns(stories)
    flagged = []
    for story in stories:
        story_flags = flags(found[story.pk], site)
        if story_flags:
            flagged.append(Flagged(story, found[story.pk], story_flags))
    return Found(since, until, len(stories), flagged)
