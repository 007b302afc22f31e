"""Online story clustering: each article joins a story the moment it arrives.

Why this design (figures: `newsdesk bench predict stories`, see bench/stories.py):

* Two views of a headline, averaged: the MiniLM cosine, which knows that "ousted" and
  "removed" mean the same, and a lexical cosine over stemmed words weighted by how rare
  each word is in general English (wordfreq), which knows that two headlines naming
  "Titanfall" or "Lena Dunham" are about the same thing whatever the sentence around the
  name. Together they cluster better than either alone. The word weights are fixed (no
  IDF fitted on the stream), so a story's state is a plain sum of its members' vectors:
  rebuilding it from stored articles gives the same numbers and nothing is refitted.
* Average link, not centroid: an article must be similar to the story's members on
  average, so a loose story (a topic that drifted) stops swallowing whatever lies near
  its centre, while a tight one keeps taking its coverage.
* Shared vocabulary is required as well (`min_lexical`): MiniLM rates two celebrity-TV
  headlines or two market reports as close whatever names they carry, and without the
  guard such stories fuse as they grow.
* Merges: an arrival that fits two stories is evidence that they are one. After it joins
  the best, each other story it also fits is merged into it when the two memberships
  agree on average (the same threshold over all pairs of members), which is how
  agglomerative clustering would decide. The younger story folds into the older, and
  `take_merges` reports it so that the database can follow.
* Events, not subjects (`newsdesk bench predict stories-pages`): headlines name the
  subject, so "WeWork to lay off thousands" and "attorney general investigates WeWork"
  fit on headlines alone. Where an article has a text, its title-and-lead embedding (the
  enrichment's) must also sit within `body_threshold` of the story's on average, to join
  and to merge: on the dev pages the same happening's coverage sits at 0.65 and above,
  and the sweep is flat from 0.55 to 0.65. Roundups (roundups.py) join nothing.
* Events, not product lines: headlines that give one name different model numbers or
  sizes ("13-inch" and "16-inch MacBook Pro", "Nexus 7" and "Nexus 8", variants.py) are
  about different things, however close they read: neither joins nor merges.
* Reports, not opinions (opinion.py): commentary on a subject reads as close to the
  day's reports on it as they do to each other. A story made of opinion pieces only is
  no evidence of an event, so an opinion piece joins (and a story of opinion pieces
  merges with) only a story that has reports, and only when it names one of the people
  or organisations those reports name; a report joins a story of opinion pieces only on
  such a shared participant too. A shared place is the subject, not the happening.
* Time: similarity to a story drops by `decay_per_day` for each day it has been idle, and
  after `dormant_after` it goes dormant and is forgotten. That bounds the state to the
  stories of the last few days; `restore` rebuilds them from stored members, so any
  worker holding the story lock can start from the database.

The thresholds were calibrated on headline embeddings (all-MiniLM-L6-v2 of the title).
Embeddings of title and body sit higher for unrelated pairs too (on BBC News the 99th
percentile of random pairs is 0.47 against 0.33 for titles), so a caller that embeds
more than the headline should expect larger stories at the same `threshold`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from newsdesk.ai import terms, words
from newsdesk.stories import variants
from newsdesk.stories.roundups import is_roundup

DAY = 86400.0
_WORD = re.compile(r"\w+")
# A word weighs its surprisal in general English: nine minus its Zipf value (log10 of
# its frequency per billion words), so "the" weighs 1.3, "shares" 4.4, "Titanfall" 6.4
# and a word wordfreq has never seen 9. An entity key weighs as much as the rarest word.
_SURPRISAL_TOP = 9.0
_MIN_WEIGHT = 1.0


@dataclass(frozen=True)
class Params:
    # Mean combined similarity at and above which an article joins a story and two
    # stories merge (the sweep in bench/stories.py is flat from 0.14 to 0.22).
    threshold: float = 0.18
    # Weight of the lexical view against the embedding view (1 = their plain mean).
    lexical_weight: float = 1.0
    # Mean lexical similarity also required to join or merge (shared vocabulary).
    min_lexical: float = 0.05
    # Similarity lost per day a story has been idle: a story that went quiet needs a
    # closer match, and the penalty (0.06 at three days) eases it into dormancy.
    decay_per_day: float = 0.02
    # A story that took no article for this long takes no more (and leaves the state).
    dormant_after: float = 3 * DAY
    merge: bool = True
    # Mean cosine of the title-and-lead embeddings also required to join or merge, where
    # both sides have them (pages do; the UCI headlines do not): a headline names the
    # subject, the lead tells the event.
    body_threshold: float = 0.6
    # Headlines giving one name different variants (variants.py) never join or merge.
    variants: bool = True
    # Opinion pieces need a participant shared with a story's reports (opinion.py).
    opinion_evidence: bool = True


@dataclass(frozen=True)
class Item:
    """One article as the clusterer sees it."""

    id: int | str
    vector: np.ndarray  # unit length: cosine is the dot product
    title: str
    time: float  # publication time, seconds since the epoch
    publisher: str
    entities: frozenset[str] = frozenset()  # hashtag slugs of people, places, organisations
    body: np.ndarray | None = None  # unit embedding of title and lead, when there is a text
    opinion: bool = False  # the publisher files it as opinion (opinion.py)
    participants: frozenset[str] = frozenset()  # the entities that are people or organisations


class Placement(NamedTuple):
    key: str  # the story; a new one gets a provisional key ("new-N") the caller may `rename`
    similarity: float  # mean similarity to the story's earlier members (1.0 for a new story)


@dataclass
class _Story:
    key: str
    slot: int
    size: int
    first: float
    last: float
    lexical: dict[str, float] = field(default_factory=dict)  # sum of members' lexical vectors
    variants: dict[str, set[str]] = field(default_factory=dict)  # name -> values its headlines give
    participants: dict[str, int] = field(default_factory=dict)  # members naming each, all members
    reported: dict[str, int] = field(default_factory=dict)  # the same, reports (not opinion) only


@lru_cache(maxsize=200_000)
def _weight(word: str) -> float:
    return max(_SURPRISAL_TOP - words.zipf(word), _MIN_WEIGHT)


def lexical_vector(title: str, entities: Iterable[str] = ()) -> dict[str, float]:
    """Unit-length sparse vector of a headline's stemmed content words, each counted once
    (a headline is too short for counts to mean anything), plus its entity keys."""
    vector: dict[str, float] = {}
    for word in _WORD.findall(title.lower()):
        if word in terms.STOP_WORDS or word == "_":
            continue
        key = words.stem(word)
        vector[key] = max(vector.get(key, 0.0), _weight(word))
    for entity in entities:
        vector["#" + entity] = _SURPRISAL_TOP
    norm = sum(v * v for v in vector.values()) ** 0.5
    return {k: v / norm for k, v in vector.items()} if norm else {}


def lexical_similarity(a: dict[str, float], b: dict[str, float]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(w * large.get(t, 0.0) for t, w in small.items())


class OnlineClusterer:
    """Assigns articles to stories in arrival order. Not thread-safe: one writer at a time.

    State, for the active stories only: the sum of each story's member embeddings (a row
    of one matrix), the sum of their lexical vectors, size and time span, and an inverted
    index from word to the stories that use it. Members themselves are not kept.
    """

    def __init__(self, params: Params | None = None) -> None:
        self.params = params or Params()
        self._sums = np.zeros((0, 0))
        self._sizes = np.zeros(0)
        self._bodies = np.zeros((0, 0))  # sum of members' title-and-lead embeddings
        self._body_counts = np.zeros(0)  # members that have one
        self._last = np.zeros(0)
        self._active = np.zeros(0, dtype=bool)
        self._closed = np.zeros(0, dtype=bool)  # a roundup's story: nothing joins it
        self._reports = np.zeros(0)  # members that are not opinion pieces
        self._free: list[int] = []
        self._stories: dict[str, _Story] = {}
        self._by_slot: dict[int, _Story] = {}
        self._postings: dict[str, dict[int, float]] = {}
        self._variant_slots: dict[str, set[int]] = {}  # variant name -> stories giving it
        self._participant_slots: dict[str, dict[int, int]] = {}  # all members
        self._reported_slots: dict[str, dict[int, int]] = {}  # reports only
        self._merges: list[tuple[str, str]] = []
        self._serial = 0
        self.clock = float("-inf")  # the latest publication time seen

    # -- API ----------------------------------------------------------------------------

    def add(self, item: Item) -> Placement:
        """Place `item` in the story it fits best, or open a new one; may merge stories."""
        self._advance(item.time)
        vector = self._vector(item.vector)
        body = self._body(item.body)
        lexical = lexical_vector(item.title, item.entities)
        roundup = is_roundup(item.title)
        scores = np.zeros(0) if roundup else self._scores(vector, lexical, item.time, body)
        if scores.size:
            self._veto(scores, item)
        best = int(np.argmax(scores)) if scores.size else -1
        if best < 0 or scores[best] < self.params.threshold:
            story = self._open(self._next_key(), item.time, closed=roundup)
            self._join(story, vector, lexical, item.time, body, item)
            return Placement(story.key, 1.0)
        story = self._by_slot[best]
        self._join(story, vector, lexical, item.time, body, item)
        if self.params.merge:
            story = self._merge_around(story, scores, best)
        return Placement(story.key, float(scores[best]))

    def restore(self, placed: Iterable[tuple[Item, str]]) -> None:
        """Put stored articles back into their stories, in publication order, deciding
        nothing: restoring the active members of a stream reproduces its state."""
        for item, key in placed:
            self._advance(item.time)
            vector = self._vector(item.vector)
            story = self._stories.get(key) or self._open(key, item.time, closed=is_roundup(item.title))
            lexical = lexical_vector(item.title, item.entities)
            self._join(story, vector, lexical, item.time, self._body(item.body), item)

    def rename(self, old: str, new: str) -> None:
        """Give a new story its permanent key (the database id), in pending merges too."""
        if old == new:
            return
        if new in self._stories:
            raise ValueError(f"story key {new!r} is in use")
        story = self._stories.pop(old)
        story.key = new
        self._stories[new] = story
        self._merges = [(new if a == old else a, new if b == old else b) for a, b in self._merges]

    @property
    def merges(self) -> list[tuple[str, str]]:
        """(merged key, into key) since the last `take_merges`, oldest first. A key can
        be merged into one that is itself merged later: apply them in order."""
        return list(self._merges)

    def take_merges(self) -> list[tuple[str, str]]:
        merges, self._merges = self._merges, []
        return merges

    def keys(self) -> list[str]:
        """Keys of the active stories."""
        return list(self._stories)

    def size(self, key: str) -> int:
        return self._stories[key].size

    def __len__(self) -> int:
        return len(self._stories)

    # -- scoring ------------------------------------------------------------------------

    def _scores(
        self, vector: np.ndarray, lexical: dict[str, float], time: float, body: np.ndarray | None = None
    ) -> np.ndarray:
        """Each slot's mean combined similarity to the item (-inf where it may not join)."""
        if not self._stories:
            return np.zeros(0)
        p = self.params
        lex = np.zeros(len(self._sizes))
        for term, weight in lexical.items():
            for slot, total in self._postings.get(term, {}).items():
                lex[slot] += weight * total
        sizes = np.maximum(self._sizes, 1.0)
        scores = (self._sums @ vector + p.lexical_weight * lex) / ((1.0 + p.lexical_weight) * sizes)
        scores -= p.decay_per_day * np.maximum(time - self._last, 0.0) / DAY
        scores[(lex < p.min_lexical * sizes) | ~self._active | self._closed] = -np.inf
        if body is not None:
            counts = self._body_counts
            mean_body = (self._bodies @ body) / np.maximum(counts, 1.0)
            scores[(counts > 0) & (mean_body < p.body_threshold)] = -np.inf
        return scores

    def _veto(self, scores: np.ndarray, item: Item) -> None:
        """Rule out (-inf) the stories that `item` may not join whatever its similarity:
        those whose headlines give one of its names another variant, and for opinion
        (either side) those without a report and a participant to tie the two."""
        p = self.params
        if p.variants:
            for name, values in variants.by_name(variants.variants(item.title)).items():
                for slot in self._variant_slots.get(name, ()):
                    if not values & self._by_slot[slot].variants[name]:
                        scores[slot] = -np.inf
        if not p.opinion_evidence:
            return
        shared = np.zeros(len(scores), dtype=bool)
        postings = self._reported_slots if item.opinion else self._participant_slots
        for participant in item.participants:
            for slot in postings.get(participant, ()):
                shared[slot] = True
        reported = self._reports > 0
        allowed = (reported & shared) if item.opinion else (reported | shared)
        scores[~allowed] = -np.inf

    def _link(self, x: _Story, y: _Story) -> float:
        """Average-link similarity of two stories, less the decay for the gap between them."""
        p = self.params
        if self._closed[x.slot] or self._closed[y.slot]:
            return -np.inf
        if p.variants and variants.conflict(x.variants, y.variants):
            return -np.inf
        if p.opinion_evidence and not self._tied(x, y):
            return -np.inf
        pairs = x.size * y.size
        lex = lexical_similarity(x.lexical, y.lexical)
        if lex < p.min_lexical * pairs:
            return -np.inf
        body_pairs = self._body_counts[x.slot] * self._body_counts[y.slot]
        if body_pairs and float(self._bodies[x.slot] @ self._bodies[y.slot]) < p.body_threshold * body_pairs:
            return -np.inf
        emb = float(self._sums[x.slot] @ self._sums[y.slot])
        gap = max(0.0, max(x.first, y.first) - min(x.last, y.last))
        return (emb + p.lexical_weight * lex) / ((1.0 + p.lexical_weight) * pairs) - p.decay_per_day * gap / DAY

    def _tied(self, x: _Story, y: _Story) -> bool:
        """Whether opinion pieces are tied to reports: two stories of reports always are;
        a story of opinion pieces only is tied to one with reports naming a participant it
        names; two stories of opinion pieces only never are."""
        x_reports, y_reports = self._reports[x.slot] > 0, self._reports[y.slot] > 0
        if x_reports and y_reports:
            return True
        if not x_reports and not y_reports:
            return False
        opinions, reports = (x, y) if y_reports else (y, x)
        return not opinions.participants.keys().isdisjoint(reports.reported)

    def _merge_around(self, story: _Story, scores: np.ndarray, best: int) -> _Story:
        """Merge into `story` the other stories the new article also fits, when the two
        stories fit each other as wholes."""
        fits = [int(s) for s in np.flatnonzero(scores >= self.params.threshold) if s != best]
        fits.sort(key=lambda s: -scores[s])
        for slot in fits:
            other = self._by_slot.get(slot)
            if other is None or other is story or self._link(story, other) < self.params.threshold:
                continue
            older, younger = sorted((story, other), key=lambda s: (s.first, _key_order(s.key)))
            self._absorb(older, younger)
            self._merges.append((younger.key, older.key))
            story = older
        return story

    # -- state --------------------------------------------------------------------------

    def _vector(self, vector: np.ndarray) -> np.ndarray:
        vector = np.asarray(vector, dtype=np.float64).ravel()
        if self._sums.shape[1] == 0:  # the first vector fixes the dimensions
            self._sums = np.zeros((len(self._sizes), vector.size))
        if vector.size != self._sums.shape[1]:
            raise ValueError(f"vector has {vector.size} dimensions, expected {self._sums.shape[1]}")
        return vector

    def _body(self, body: np.ndarray | None) -> np.ndarray | None:
        if body is None:
            return None
        body = np.asarray(body, dtype=np.float64).ravel()
        if self._bodies.shape[1] == 0:
            self._bodies = np.zeros((len(self._sizes), body.size))
        if body.size != self._bodies.shape[1]:
            raise ValueError(f"body vector has {body.size} dimensions, expected {self._bodies.shape[1]}")
        return body

    def _join(
        self,
        story: _Story,
        vector: np.ndarray,
        lexical: dict[str, float],
        time: float,
        body: np.ndarray | None,
        item: Item,
    ) -> None:
        self._sums[story.slot] += vector
        self._add_variants(story, variants.by_name(variants.variants(item.title)))
        counts = dict.fromkeys(item.participants, 1)
        self._add_participants(story, counts, {} if item.opinion else counts)
        self._reports[story.slot] += 0 if item.opinion else 1
        if body is not None:
            self._bodies[story.slot] += body
            self._body_counts[story.slot] += 1
        self._sizes[story.slot] += 1
        story.size += 1
        story.first, story.last = min(story.first, time), max(story.last, time)
        self._last[story.slot] = story.last
        self._add_lexical(story, lexical)

    def _absorb(self, into: _Story, other: _Story) -> None:
        self._sums[into.slot] += self._sums[other.slot]
        if self._bodies.shape[1]:
            self._bodies[into.slot] += self._bodies[other.slot]
        self._body_counts[into.slot] += self._body_counts[other.slot]
        self._sizes[into.slot] += other.size
        into.size += other.size
        into.first, into.last = min(into.first, other.first), max(into.last, other.last)
        self._last[into.slot] = into.last
        self._add_lexical(into, other.lexical)
        self._add_variants(into, other.variants)
        self._add_participants(into, other.participants, other.reported)
        self._reports[into.slot] += self._reports[other.slot]
        self._drop(other)

    def _add_lexical(self, story: _Story, lexical: dict[str, float]) -> None:
        for term, weight in lexical.items():
            story.lexical[term] = story.lexical.get(term, 0.0) + weight
            posting = self._postings.setdefault(term, {})
            posting[story.slot] = posting.get(story.slot, 0.0) + weight

    def _add_variants(self, story: _Story, found: dict[str, set[str]]) -> None:
        for name, values in found.items():
            story.variants.setdefault(name, set()).update(values)
            self._variant_slots.setdefault(name, set()).add(story.slot)

    def _add_participants(self, story: _Story, every: dict[str, int], reported: dict[str, int]) -> None:
        for counts, postings, own in (
            (every, self._participant_slots, story.participants),
            (reported, self._reported_slots, story.reported),
        ):
            for participant, count in counts.items():
                own[participant] = own.get(participant, 0) + count
                posting = postings.setdefault(participant, {})
                posting[story.slot] = posting.get(story.slot, 0) + count

    def _open(self, key: str, time: float, *, closed: bool = False) -> _Story:
        if not self._free:
            self._grow()
        slot = self._free.pop()
        self._active[slot] = True
        self._closed[slot] = closed
        story = _Story(key=key, slot=slot, size=0, first=time, last=time)
        self._stories[key] = story
        self._by_slot[slot] = story
        return story

    def _drop(self, story: _Story) -> None:
        for term in story.lexical:
            posting = self._postings[term]
            del posting[story.slot]
            if not posting:
                del self._postings[term]
        for name in story.variants:
            slots = self._variant_slots[name]
            slots.discard(story.slot)
            if not slots:
                del self._variant_slots[name]
        for own, postings in ((story.participants, self._participant_slots), (story.reported, self._reported_slots)):
            for participant in own:
                named = postings[participant]
                del named[story.slot]
                if not named:
                    del postings[participant]
        self._reports[story.slot] = 0.0
        self._sums[story.slot] = 0.0
        self._sizes[story.slot] = 0.0
        if self._bodies.shape[1]:
            self._bodies[story.slot] = 0.0
        self._body_counts[story.slot] = 0.0
        self._active[story.slot] = False
        self._closed[story.slot] = False
        self._free.append(story.slot)
        del self._stories[story.key]
        del self._by_slot[story.slot]

    def _grow(self) -> None:
        old = len(self._sizes)
        new = max(64, 2 * old)
        sums = np.zeros((new, self._sums.shape[1]))
        sums[:old] = self._sums
        self._sums = sums
        bodies = np.zeros((new, self._bodies.shape[1]))
        bodies[:old] = self._bodies
        self._bodies = bodies
        self._body_counts = np.concatenate([self._body_counts, np.zeros(new - old)])
        self._sizes = np.concatenate([self._sizes, np.zeros(new - old)])
        self._last = np.concatenate([self._last, np.zeros(new - old)])
        self._active = np.concatenate([self._active, np.zeros(new - old, dtype=bool)])
        self._closed = np.concatenate([self._closed, np.zeros(new - old, dtype=bool)])
        self._reports = np.concatenate([self._reports, np.zeros(new - old)])
        self._free.extend(range(new - 1, old - 1, -1))  # lowest free slot first

    def _advance(self, time: float) -> None:
        """Move the clock forward; stories idle for longer than `dormant_after` leave."""
        if time <= self.clock:
            return
        self.clock = time
        idle = np.flatnonzero(self._active & (self._last < time - self.params.dormant_after))
        for slot in idle:
            self._drop(self._by_slot[int(slot)])

    def _next_key(self) -> str:
        while True:
            self._serial += 1
            key = f"new-{self._serial}"
            if key not in self._stories:
                return key


def _key_order(key: str) -> tuple[int, int, str]:
    """Stored stories (digit keys) before new ones, then by number: ties go to the older."""
    if key.isdigit():
        return (0, int(key), "")
    _, _, tail = key.rpartition("-")
    return (1, int(tail), "") if tail.isdigit() else (2, 0, key)
