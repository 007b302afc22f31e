"""Ordering related articles for an article page, on candidates already in memory.

The rules readers expect from a news site (../shared/DESIGN.md), in priority order:

1. Coverage of the same story by other publishers first: it is what a reader who
   wants another account of the event is looking for. The same story from the article's
   own publisher comes next, then articles that are only on the same topic or entities.
2. Within a tier, by relevance: the caller's similarity (MiniLM cosine, or better its
   mean with the lexical cosine of `clustering.lexical_similarity`, see
   bench/stories.py), plus a bonus for shared entities, less a small amount
   per day between the two articles, because news from the same cycle is more related
   than an equally similar piece from another week.
3. One text once: copies of a text (and copies of the article itself) are folded into
   the best-placed one; the page lists the other publishers as "also published by".
4. A mix of sources: each further pick from a publisher already listed pays a penalty,
   so one prolific publisher cannot fill the box when others covered the story too.
5. More recent first among equally good: candidates whose adjusted relevance is within
   `tie` of the best remaining one are taken newest first.

Selection is greedy (the penalty depends on what was already picked); with a candidate
pool of a few hundred it costs well under a millisecond per page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

DAY = 86400.0


@dataclass(frozen=True)
class Query:
    id: int | str
    publisher: str
    time: float  # seconds since the epoch
    entities: frozenset = frozenset()


@dataclass(frozen=True)
class Candidate:
    id: int | str
    similarity: float  # to the query, the caller's measure (cosine-like, higher is closer)
    same_story: bool
    publisher: str
    time: float
    entities: frozenset = frozenset()
    duplicate_of: int | str | None = None  # the original this text copies, if any
    score: float = 0.0  # set by `rank`: relevance as adjusted when it was picked
    tier: int = 2  # set by `rank`: 0 same story other publisher, 1 same story, 2 other


@dataclass(frozen=True)
class Weights:
    entity: float = 0.05  # per unit of Jaccard overlap of the entity sets
    decay_per_day: float = 0.02  # as in clustering.Params: a day apart costs 0.02
    same_publisher: float = 0.05  # per article already picked from the same publisher
    tie: float = 0.01  # relevance differences below this are "equally good"


def relevance(query: Query, candidate: Candidate, weights: Weights = Weights()) -> float:
    score = candidate.similarity - weights.decay_per_day * abs(candidate.time - query.time) / DAY
    if query.entities and candidate.entities:
        shared = len(query.entities & candidate.entities)
        score += weights.entity * shared / len(query.entities | candidate.entities)
    return score


def tier(query: Query, candidate: Candidate) -> int:
    if not candidate.same_story:
        return 2
    return 1 if candidate.publisher == query.publisher else 0


def rank(
    query: Query, candidates: Iterable[Candidate], limit: int = 10, weights: Weights = Weights()
) -> list[Candidate]:
    """The best `limit` candidates in page order, each with `score` and `tier` set.

    Scores live in plain tuples until a candidate is picked: copying every frozen
    candidate (`replace`) cost more than the ranking itself on an article page."""
    pool = _best_copies(query, candidates, weights)
    chosen: list[Candidate] = []
    used: Counter[str] = Counter()
    while pool and len(chosen) < limit:
        pick, adjusted = _pick(pool, used, weights)
        tier_, _, c = pool.pop(pick)
        chosen.append(replace(c, score=adjusted, tier=tier_))
        used[c.publisher] += 1
    return chosen


def _best_copies(query: Query, candidates: Iterable[Candidate], weights: Weights) -> list[tuple[int, float, Candidate]]:
    """(tier, relevance, candidate) for the best-placed copy of each text, in the
    order the picks consider them: tier, relevance, newest, id."""
    best_copy: dict[int | str, tuple[int, float, Candidate]] = {}
    for c in candidates:
        root = c.id if c.duplicate_of is None else c.duplicate_of
        if c.id == query.id or root == query.id:
            continue  # the article itself, or a copy of it
        entry = (tier(query, c), relevance(query, c, weights), c)
        kept = best_copy.get(root)
        if kept is None or (entry[0], -entry[1]) < (kept[0], -kept[1]):
            best_copy[root] = entry
    return sorted(best_copy.values(), key=lambda e: (e[0], -e[1], -e[2].time, str(e[2].id)))


def _pick(pool: list[tuple[int, float, Candidate]], used: Counter[str], weights: Weights) -> tuple[int, float]:
    """The pool position of the next pick and its score after the publisher penalty.

    Only the top tier competes, and a penalty never raises a score, so the scan stops
    at the first candidate whose unpenalised relevance cannot reach the best (or the
    tie band below it): the pool is sorted by relevance within a tier."""
    top_tier = pool[0][0]
    best = None
    for tier_, score, c in pool:
        if tier_ != top_tier or (best is not None and score < best):
            break
        adjusted = score - weights.same_publisher * used[c.publisher]
        if best is None or adjusted > best:
            best = adjusted
    assert best is not None  # pool[0] is in the top tier
    floor = best - weights.tie
    # Among the equally good, the newest; ties on time keep the relevance order.
    winner, winner_key, winner_score = -1, None, 0.0
    for i, (tier_, score, c) in enumerate(pool):
        if tier_ != top_tier or score < floor:
            break
        adjusted = score - weights.same_publisher * used[c.publisher]
        if adjusted >= floor and (winner_key is None or (c.time, -i) > winner_key):
            winner, winner_key, winner_score = i, (c.time, -i), adjusted
    return winner, winner_score
