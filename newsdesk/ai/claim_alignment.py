"""Which claims of a story's articles state the same thing, and where their figures differ.

Plain functions over `Fact`s (one figure of a claim, or its quote, with the embedding of
its sentence): no Django, so the benchmark and the story refresh decide alike.

Two facts from different publishers are about **the same thing** when
- figures: their dimensions are equal (money in one currency, a percentage, a count of
  the same noun, a measure in one unit, an age, a day, a time of day), their sentences
  are close in meaning (embedding cosine at least SAME_COSINE) and the words around the
  two figures overlap (at least CONTEXT_OVERLAP of the smaller set: "revenue rose 3.5
  percent" and "comparable sales grew 3.5%" share the number, not the thing);
- quotes: the quoted words overlap (QUOTE_OVERLAP of the shorter quotation's words).

Same thing and compatible values (see `compatible`) is **the same claim**; same thing
and incompatible values is a **conflict**, which asks for more (precision first: a wrong
conflict shown to readers is worse than a missed one): sentences closer still
(CONFLICT_COSINE), and neither sentence also states the other's value (a sentence that
says "rose from 12 to 15" is an update, not a disagreement). A quote is in conflict when
two named speakers differ ("Smith said" / "Jones said"); a pronoun or no name is no
speaker.

Rounding and hedges are not conflicts: each figure stands for an interval, the number
give or take half its last written step but at most ROUNDING of its value ("300" covers
285-315, so "about 300" and "312" agree; "10" covers 9.5-10.5, so "10 killed" and "12
killed" conflict); "about", "nearly", "some" widen it to HEDGE_ABOUT either side; "more
than X" is X and above, "up to X" is X and below. Intervals that only touch do not meet
("12" and "13" share only 12.5: exact whole numbers that differ are different figures).
Figures conflict only when their intervals do not meet. Days and times of day must be
equal.

A conflict also needs (each a general rule, found by labelling pairs the rules had not
seen): the same period named on both sides (a period on one side only, "Q4 loss of $21
billion" / "record $19 billion loss", may be the year's; "fourth-quarter" and "Q4" are
one period); no bound on either side (a bound, "below $108", "more than 20", "up to",
is compatible with any value on its side; it is the same claim only as the same number);
the words after both figures comparable (`_same_after`: a word after one figure and none
after the other, or words that cannot be read, "8 months after their split", is no
evidence of one thing); and a name in common when both sentences name any, case aside
and a name matching a longer one with all its words ("George" / "George Clooney").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from newsdesk.ai.claims import WINDOW, Claim, Figure, next_word, words_after
from newsdesk.ai.terms import content_terms

__all__ = ["SAME_COSINE", "Fact", "assign", "compatible", "facts_of", "relate"]

SAME_COSINE = 0.6  # sentences about the same thing (all-MiniLM-L6-v2 cosine)
CONTEXT_OVERLAP = 0.3  # share of the smaller set of words around the figures found in the other
QUOTE_OVERLAP = 0.6  # share of the shorter quotation's words found in the other
LEAD_SENTENCES = 3  # conflicts only between headlines and the first three sentences, where the news is
ROUNDING = 0.05  # a round number covers at most 5% of its value either side
HEDGE_ABOUT = 0.10  # "about", "nearly", "some": 10% either side


@dataclass
class Fact:
    """One comparable part of a claim: `part` is the index of a figure, -1 the quote."""

    key: tuple[int, int]  # (claim id, part)
    article: int
    source: int
    published: float  # timestamp, for "newer"
    claim: Claim
    part: int
    vector: np.ndarray = field(repr=False)  # unit vector of the claim's sentence

    @property
    def figure(self) -> Figure | None:
        return self.claim.figures[self.part] if self.part >= 0 else None


def facts_of(
    claim: Claim, claim_id: int, *, article: int, source: int, published: float, vector: np.ndarray
) -> list[Fact]:
    parts = list(range(len(claim.figures)))
    if claim.quote is not None:
        parts.append(-1)
    return [Fact((claim_id, p), article, source, published, claim, p, vector) for p in parts]


def _interval(f: Figure) -> tuple[float, float]:
    if f.dimension in ("date", "time"):
        return f.value, f.value
    half = min(f.precision / 2, ROUNDING * abs(f.value))
    low, high = f.value - half, f.value + half
    if f.hedge == "about":
        spread = max(half, HEDGE_ABOUT * abs(f.value))
        return f.value - spread, f.value + spread
    if f.hedge == "over":
        return low * (1 - ROUNDING), float("inf")
    if f.hedge == "under":
        return 0.0, high * (1 + ROUNDING)
    return low, high


def compatible(a: Figure, b: Figure) -> bool:
    """Whether two figures of one dimension can both be right (see the module's note).

    The intervals must overlap, not merely touch: "12" (11.5-12.5) and "13" (12.5-13.5)
    meet only at 12.5, a value neither publisher wrote, so two exact whole numbers that
    differ are different figures ("killed 12" / "killed 13", "$14 billion" / "$15
    billion"). Equal values always agree (a day or a time of day is a point)."""
    if a.value == b.value:
        return True
    a_low, a_high = _interval(a)
    b_low, b_high = _interval(b)
    eps = 1e-9 * max(1.0, abs(a.value), abs(b.value))  # float noise in "$1.8 billion" +- 0.05 billion
    return a_low < b_high - eps and b_low < a_high - eps


BOUNDS = ("over", "under")  # "more than X", "at least X", "below X", "up to X": not a value


def agree(a: Figure, b: Figure) -> bool:
    """Whether two figures state the same value: compatible, and a bound ("more than X",
    "up to X") only agrees with a figure at X ("up to $8 billion" does not state "$3
    billion", though it does not contradict it either). A bound is never widened as if
    it were "about": "below $108" does not state "around $101"."""
    if not compatible(a, b):
        return False
    if a.hedge in BOUNDS or b.hedge in BOUNDS:
        return compatible(replace(a, hedge=""), replace(b, hedge=""))
    return True


def _bounds_only_agree(a: Figure, b: Figure) -> str | None:
    """`relate`'s answer when a figure is a bound: a bound is compatible with every value
    on its side, so it never conflicts; it is the same claim only when it says the same
    number: the same bound ("more than 20" / "at least 20") or a value at the bound ("up
    to $100 million" / "$100 million"), not one merely on its side ("more than 20" /
    "25")."""
    if a.hedge in BOUNDS and b.hedge in BOUNDS and a.hedge != b.hedge:
        return None  # "more than 20" and "up to 20" meet at 20 but say opposite things
    return "same" if agree(a, b) else None


def _context_overlap(a: Fact, b: Fact, fa: Figure, fb: Figure) -> float:
    """How much of the words around one figure the other's sentence has, the better of
    the two directions: a headline's few words around "$399" are found in the other
    sentence even when that one's own figure stands among other words."""
    best = 0.0
    noun = fa.dimension.partition(":")[2]
    for context, terms in ((fa.context, b.claim.terms), (fb.context, a.claim.terms)):
        words = {w for w in context if not noun.startswith(w)}  # the counted noun is compared already
        if words:
            best = max(best, len(words & set(terms)) / len(words))
    return best


_PERIOD = re.compile(
    r"\b(?:[1-4]q|q[1-4]|h[12]|[12]h|fy\W?\d{2,4}|(?:first|second|third|fourth)[- ](?:quarter|half)|"
    r"full[- ]year|annual|annually|monthly|weekly|quarterly|year[- ]on[- ]year|(?:19|20)\d\d|"
    r"(?:this|last|past|previous|latest|next|the) (?:year|quarter|month|week|half)|year[- ]to[- ]date|ytd|"
    r"january|february|march|april|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
# One period, several spellings: "Q4", "4Q", "fourth quarter", "fourth-quarter".
_PERIOD_NAMES = {
    **{f"{n}q": f"q{n}" for n in "1234"},
    **{f"{w} quarter": f"q{n}" for n, w in zip("1234", ("first", "second", "third", "fourth"), strict=True)},
    "1h": "h1", "2h": "h2", "first half": "h1", "second half": "h2",
    "full year": "year", "the year": "year", "this year": "year",
    "year to date": "ytd", "last quarter": "the quarter", "latest quarter": "the quarter",
}  # fmt: skip


_TOTALS = frozenset(content_terms("overall total cumulative altogether combined"))
_RATES = frozenset(["annual", "annually", "monthly", "weekly", "quarterly", "year on year"])


def _periods(claim: Claim) -> tuple[set[str], set[str]]:
    """The periods a sentence names (Q4, 2013, December, full-year...) and the rates
    (annual, monthly...): figures of different periods or rates are different things,
    however alike the sentences are."""
    found = {m.group().lower().replace("-", " ") for m in _PERIOD.finditer(claim.text)}
    found = {_PERIOD_NAMES.get(p, re.sub(r"^fy\W?(?:20)?(\d\d)$", r"fy\1", p)) for p in found}
    return found - _RATES, {"annual" if p == "annually" else p for p in found & _RATES}


_MODAL = re.compile(
    r"\b(?:could|may|might|would|will|likely|possible|possibly|expects?|expected|forecasts?|predicts?|consider(?:s|ing)?|"
    r"targets?|guidance|outlook|projected|projections?|estimates?|"
    r"(?:plans?|planning|aims?|seeks?|looking|set|wants?|hopes?|targets?|targeting) to|patch(?:es|ed)? to)\b",
    re.IGNORECASE,
)


def _modal(claim: Claim, figure: Figure) -> bool:
    """Whether the words just before the figure speak of what may, could or is meant to
    be ("could reach 15", "plans to cut 4,000 jobs", "patch to 1080p"): a target or a
    forecast is no contradiction of a figure stated as fact."""
    before = " ".join(claim.text[: figure.start].split()[-WINDOW:])
    return _MODAL.search(before) is not None


def _quote_words(text: str) -> set[str]:
    return {w.strip(".,;:!?'’\"“”()").lower() for w in text.split()} - {""}


def _same_speaker(a: str, b: str) -> bool:
    x, y = a.lower().split(), b.lower().split()
    return x[-1] == y[-1] or set(x) <= set(y) or set(y) <= set(x)


def _states(claim: Claim, figure: Figure) -> bool:
    """Whether the claim's sentence also states this figure (same dimension, compatible)."""
    return any(f.dimension == figure.dimension and compatible(f, figure) for f in claim.figures)


def relate(a: Fact, b: Fact, cosine: float) -> str | None:
    """ "same", "conflict" or None for two facts of different publishers."""
    if a.source == b.source:
        return None
    fa, fb = a.figure, b.figure
    if fa is None or fb is None:
        if fa is not None or fb is not None or a.claim.quote is None or b.claim.quote is None:
            return None
        qa, qb = _quote_words(a.claim.quote.text), _quote_words(b.claim.quote.text)
        if len(qa & qb) / max(1, min(len(qa), len(qb))) < QUOTE_OVERLAP:
            return None
        sa, sb = a.claim.quote.speaker, b.claim.quote.speaker
        if sa and sb and not _same_speaker(sa, sb):
            return "conflict"
        return "same"
    if fa.dimension != fb.dimension or cosine < SAME_COSINE:
        return None
    if _context_overlap(a, b, fa, fb) < CONTEXT_OVERLAP:
        return None
    periods = list(zip(_periods(a.claim), _periods(b.claim), strict=True))
    for periods_a, periods_b in periods:
        if periods_a and periods_b and not periods_a & periods_b:
            return None  # "Q4 sales rose 6%" and "2013 sales rose 10%"; an annual and a monthly rate
    if fa.hedge in BOUNDS or fb.hedge in BOUNDS:
        return _bounds_only_agree(fa, fb)  # "below $108" is compatible with any price under it
    if agree(fa, fb):
        return "same"
    if compatible(fa, fb) or _states(a.claim, fb) or _states(b.claim, fa):
        return None
    if any(periods_a != periods_b for periods_a, periods_b in periods):
        return None  # a period named on one side only: "Q4 loss of $21bn" is not the year's "$19bn loss"
    if bool(_TOTALS & set(fa.context)) != bool(_TOTALS & set(fb.context)):
        return None  # a running total is not the figure of one day or one weekend
    if a.claim.sentence >= LEAD_SENTENCES or b.claim.sentence >= LEAD_SENTENCES:
        return None  # a figure further down is more often a detail of another instance
    anchors_a, anchors_b = _anchors(a.claim, fa), _anchors(b.claim, fb)
    if not anchors_a & anchors_b:
        return None  # the words next to the figures differ: "pay ... $13.8 million", "cost investors $4B"
    if not _same_after(a.claim, fa, b.claim, fb, anchors_a, anchors_b):
        return None  # "8 months after their split" is not "a boyfriend of seven months"
    if _modal(a.claim, fa) or _modal(b.claim, fb):
        return None
    if a.claim.entities and b.claim.entities and not _share_entity(a.claim.entities, b.claim.entities):
        return None  # about different people, places or organisations
    return "conflict"


def _share_entity(names_a: Sequence[str], names_b: Sequence[str]) -> bool:
    """Whether two sentences name someone in common: case aside ("GEORGE CLOONEY" in a
    headline), and a name is the same as a longer one that has all its words ("Clooney",
    "George" / "George Clooney"), as a Title Case headline's names are often cut."""
    words_a = [tuple(n.lower().split()) for n in names_a]
    words_b = [tuple(n.lower().split()) for n in names_b]
    return any(x and y and (set(x) <= set(y) or set(y) <= set(x)) for x in words_a for y in words_b)


# Verbs of change and of stating say how a figure moved or was told, not what it is of:
# "rose" next to exports and next to the deficit is no sign the two are one thing.
_MOVES = frozenset(
    content_terms(
        """rise rises rose risen rising fall falls fell fallen falling climb climbed drop dropped jump jumped
        gain gained slide slid slump slumped surge surged grow grew grown increase increased decrease
        decreased take took taken taking reach reached hit hits total totalled totaled stand stands stood
        show showed shown put make made went go goes come came cut add added lost lose set"""
    )
)


def _anchors(claim: Claim, figure: Figure) -> set[str]:
    """The figure's anchors without the names of the sentence: "Titanfall" next to both
    "48GB" and "35GB" says whose figures they are, not what they measure."""
    names = {t for name in claim.entities for t in content_terms(name)}
    return set(figure.anchors) - names - _MOVES


NAME_AFTER = "<name>"  # a name right after the figure ("boyfriend of six months Jared ...")


def _after(claim: Claim, figure: Figure) -> str:
    """What the words right after the figure say it is of: its stemmed content word; ""
    when the clause ends there or a name follows (a name says whose, not what); else
    "~" and the first word, when the clause goes on in words that are no content word
    ("8 months after their split"), which cannot be checked against the other side."""
    word = next_word(claim.text, figure)
    following = words_after(claim.text, figure)
    if word:
        names = {t for name in claim.entities for t in content_terms(name)}
        raw = next((w for w in following if content_terms(w)), following[0])  # the word it came from
        return NAME_AFTER if word in names or _written_as_name(claim.text, raw) else word
    return "~" + following[0].lower() if following else ""


def _written_as_name(sentence: str, word: str) -> bool:
    """A capitalised word in a sentence that is not in Title Case: part of a name the
    entity finder did not complete ("... of six months Jared ...", cut off)."""
    tokens = sentence.split()
    title_case = len(tokens) >= 4 and sum(t[:1].isupper() for t in tokens) >= 0.6 * len(tokens)
    return word[:1].isupper() and not title_case


def _same_after(a: Claim, fa: Figure, b: Claim, fb: Figure, anchors_a: set[str], anchors_b: set[str]) -> bool:
    """Whether the words after two figures allow them to be one thing. Equal, or both
    ending the clause or followed by a name, they do; two content words do unless they
    differ and neither is an anchor of the other ("8 months after the split" is not "a
    boyfriend of seven months in secret"); anything else (a word after one figure and
    none after the other, words that cannot be read) is no evidence of one thing."""
    raw_a, raw_b = next_word(a.text, fa), next_word(b.text, fb)
    after_a, after_b = _after(a, fa), _after(b, fb)
    if after_a == after_b or (raw_a and raw_a == raw_b):
        return True
    if {after_a, after_b} <= {"", NAME_AFTER}:
        return True
    if not after_a or not after_b or after_a.startswith("~") or after_b.startswith("~"):
        return False
    if NAME_AFTER in (after_a, after_b):
        return False
    return after_a in anchors_b or after_b in anchors_a


def _restates(a: Fact, b: Fact, cosine: float) -> bool:
    """Whether two facts of one article state the same figure of the same thing (its
    headline and its first sentence): they belong in one cluster, not two."""
    fa, fb = a.figure, b.figure
    if fa is None or fb is None or fa.dimension != fb.dimension or cosine < SAME_COSINE:
        return False
    return agree(fa, fb) and _context_overlap(a, b, fa, fb) >= CONTEXT_OVERLAP


def cosines(left: Sequence[Fact], right: Sequence[Fact]) -> np.ndarray:
    if not left or not right:
        return np.zeros((len(left), len(right)), dtype=np.float32)
    x = np.stack([f.vector for f in left]).astype(np.float32)
    y = np.stack([f.vector for f in right]).astype(np.float32)
    return x @ y.T


def assign(placed: list[tuple[Fact, int]], new: list[Fact]) -> list[tuple[Fact, int]]:
    """Clusters for new facts, given the facts already placed with their cluster numbers:
    each new fact (oldest first) joins the cluster of the placed or earlier new fact it
    relates to best (highest cosine), else starts a cluster. Only the new facts are
    compared, so a story's refresh costs its new articles' facts times its facts."""
    order = sorted(new, key=lambda f: (f.published, f.key))
    pool = [f for f, _ in placed] + order
    clusters = [c for _, c in placed]
    next_cluster = max(clusters, default=-1) + 1
    sims = cosines(order, pool)
    out: list[tuple[Fact, int]] = []
    for i, fact in enumerate(order):
        best, best_sim = -1, -2.0
        for j in range(len(placed) + i):
            other = pool[j]
            sim = float(sims[i, j])
            if sim <= best_sim:
                continue
            if relate(fact, other, sim) if other.article != fact.article else _restates(fact, other, sim):
                best, best_sim = j, sim
        if best >= 0:
            cluster = clusters[best]
        else:
            cluster, next_cluster = next_cluster, next_cluster + 1
        clusters.append(cluster)
        out.append((fact, cluster))
    return out


@dataclass
class Version:
    """Facts of one cluster that agree with each other."""

    facts: list[Fact]

    @property
    def first_reported(self) -> float:
        return min(f.published for f in self.facts)

    @property
    def sources(self) -> set[int]:
        return {f.source for f in self.facts}


def versions(facts: list[Fact]) -> list[Version]:
    """A cluster's facts grouped by what they state, in order of first report: a fact
    joins the first version whose every fact it is compatible with (same figure, or the
    same quote from the same speaker)."""
    out: list[Version] = []
    for fact in sorted(facts, key=lambda f: (f.published, f.key)):
        for version in out:
            if all(_agree(fact, other) for other in version.facts):
                version.facts.append(fact)
                break
        else:
            out.append(Version([fact]))
    return out


def _agree(a: Fact, b: Fact) -> bool:
    fa, fb = a.figure, b.figure
    if fa is not None and fb is not None:
        return fa.dimension == fb.dimension and agree(fa, fb)
    if fa is None and fb is None and a.claim.quote and b.claim.quote:
        sa, sb = a.claim.quote.speaker, b.claim.quote.speaker
        return not (sa and sb) or _same_speaker(sa, sb)
    return False


def conflicting_pairs(first: Version, second: Version) -> list[tuple[Fact, Fact]]:
    """The pairs across two versions that `relate` calls a conflict (best first)."""
    pairs = []
    sims = cosines(first.facts, second.facts)
    for i, a in enumerate(first.facts):
        for j, b in enumerate(second.facts):
            if relate(a, b, float(sims[i, j])) == "conflict":
                pairs.append((float(sims[i, j]), a, b))
    pairs.sort(key=lambda p: -p[0])
    return [(a, b) for _, a, b in pairs]
