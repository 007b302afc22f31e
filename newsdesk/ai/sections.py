"""The article's section, from a fixed news taxonomy, without a trained classifier.

Taxonomy (label: what belongs there):

- world: international affairs and events abroad — war and armed conflict, diplomacy
  between states, terrorism, coups, refugees, natural disasters, humanitarian crises.
- politics: the political process in any country — elections and campaigns, parties,
  parliaments, ministers, government policy and legislation, political rows.
- business: companies, markets and the economy — results, shares, deals, jobs, trade,
  prices, interest rates, banks, energy prices, economic growth.
- technology: computing, the internet, phones, gadgets, video games, software,
  telecoms, cyber-security and the technology industry.
- science: research and discovery — space, physics, biology, genetics, climate and
  the environment, animals, archaeology.
- health: medicine and health — diseases, treatments, hospitals, doctors and patients,
  drugs, public health, medical research.
- sports: matches, results, players, teams, coaches, leagues, tournaments, transfers,
  injuries, athletics and motor sport.
- entertainment: film, music, television, theatre, books and the arts — stars,
  celebrities, awards, charts, box office, festivals.
- lifestyle: everyday living — travel, food and drink, fashion, home and garden,
  relationships, parenting, fitness and wellbeing.

Rules for the borderline cases, chosen for what a reader expects to find where:

- Who acts decides politics vs world: a story driven by politicians, parties,
  parliaments or elections is politics even when its subject is abroad (MPs debating
  a war); a story about the events themselves — fighting, attacks, disasters, diplomacy
  between foreign states — is world (a report from the Russia-Ukraine front).
- The economy is business, including a government's economic figures and a foreign
  country's growth; a budget fight between parties is politics.
- Technology is about products, networks and the industry; science is about research
  and discovery. Medical research belongs to health.
- A film, album or game release goes by what it is: films and music are entertainment,
  games and music-download services are technology.
- Sport's own affairs — transfers, doping bans, a club's ownership — stay in sports.
- Health policy fought over by parties is politics; hospitals, treatments and disease
  are health whoever is quoted.
- A drug goes by who handles it: in a story of police and courts at work (arrests,
  raids, charges) the drugs are a crime's, and crime is not health. (The taxonomy has no
  crime section; the lexicon reads policing and crime as weak politics vocabulary.)

Method: a hand-written weighted lexicon per section (newsdesk/ai/section_lexicon.py:
terms and phrases, strong for a section's own vocabulary, weak for words every section
uses) gives lexical evidence, read with more weight in the headline and lead, each
distinct term counting once per part (headline, lead, rest: breadth of a section's
vocabulary says more than one word repeated); two of the rules above are read from
marker lists (political actors in the headline or lead discount world; video-game
markers discount the sports and entertainment vocabulary that describes a game); and the
article's MiniLM embedding is compared with hand-written example stories per section,
which adds about one strong keyword's worth of evidence — enough to settle short texts,
too little to overrule a long article's vocabulary. Last, the sections the publisher
itself filed the story under (its page's section, its feed's categories, its URL:
newsdesk/ai/section_hints.py) add PUBLISHER_SHARE of all that evidence, split between
them: an editor's filing settles a story on the border of two sections, and still gives
way to a text plainly about something else. Each section's share of the total is its
score. Nothing is trained on any labelled corpus.

Benchmark mapping (BBC News sections, eval/score.py): sports → sport, technology and
science → tech, business, politics and entertainment as they are; world, health and
lifestyle have no BBC counterpart and count as wrong there by design — they are real
sections for readers, and forcing them into the five BBC ones would misfile real news.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from newsdesk.ai import section_hints, section_lexicon

SECTIONS: tuple[str, ...] = (
    "world",
    "politics",
    "business",
    "technology",
    "science",
    "health",
    "sports",
    "entertainment",
    "lifestyle",
)

# Bump when the lexicon, the examples or a knob changes: stored enrichments record it,
# and `reprocess` redoes the ones made by an older version.
VERSION = "lexicon-4"

# Global knobs, each set for what it means. A few values of each were then compared on
# the BBC development articles (WORLD_FACTOR 0.5-1.0, headline/lead weights 1-3, the
# embedding's mass and temperature); the differences were a handful of articles, and
# no value was fitted.
# - A headline word counts twice, and so do the first LEAD_WORDS words of the body:
#   news puts what the story is about up front; the tail drifts into background.
TITLE_WEIGHT = 2.0
LEAD_WORDS = 60
LEAD_WEIGHT = 2.0
# - Only this many body words are read: enough to place any news story, and it keeps
#   the cost flat for very long pages.
MAX_WORDS = 1500
# - Within the headline, the lead and the rest, a term counts once, plus REPEAT_WEIGHT
#   times the log of its repetitions.
REPEAT_WEIGHT = 0.0
# - "world" is a frame (where it happens) rather than a subject: when a story has
#   comparable evidence for a subject section (politics, business, sports...), the
#   subject wins. A factor below one on world's evidence says exactly that.
WORLD_FACTOR = 0.6
# - "Who acts decides politics vs world": when political actors (MPs, ministers, parties;
#   section_lexicon.POLITICAL_ACTORS) appear in the headline or lead, world's evidence
#   is discounted again by ACTOR_WORLD_FACTOR — the events abroad are what those
#   politicians act on.
ACTOR_WORLD_FACTOR = 0.5
# - "A game goes by what it is": when a story is about video games (section_lexicon.
#   MEDIUM_MARKERS, MEDIUM_MIN weighted mentions: e.g. one in the headline and one more,
#   or two in the body), the sports and entertainment vocabulary describes the game's
#   content, so those sections' evidence is scaled by CONTENT_FACTOR.
MEDIUM_MIN = 3.0
CONTENT_FACTOR = 0.4
# - "A drug goes by who handles it": when policing (section_lexicon.POLICING_MARKERS)
#   drives the headline and lead (POLICING_MIN weighted distinct markers: e.g. one in the
#   headline and one in the lead), health's evidence is scaled by CONTENT_FACTOR too.
POLICING_MIN = 4.0
# - The embedding counts as much as one strong keyword (EMBEDDING_MASS), spread over the
#   sections by a softmax of its similarities (temperature EMBEDDING_TEMPERATURE). It
#   settles short texts with few keywords and hardly moves long ones.
EMBEDDING_MASS = 3.0
EMBEDDING_TEMPERATURE = 0.05
# - The publisher's own filing adds this share of the text's whole evidence (lexicon and
#   embedding), split between the sections it names. Half: a story the text finds
#   borderline goes where the editor put it; a text whose evidence for another section
#   exceeds the filed one's by more than half of all the evidence overrules a stray
#   label or category.
PUBLISHER_SHARE = 0.5
# With no text at all the guess is this section, with confidence 0.
FALLBACK = "world"


@dataclass(frozen=True)
class SectionGuess:
    """`scores` are each section's share of the evidence (they sum to 1); `confidence`
    is the chosen section's share, so 1/len(SECTIONS) means a coin toss."""

    section: str
    confidence: float
    scores: dict[str, float]


_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['\u2019]s\b")
# Structural hints: match results ("won 3-1"), sums of money, percentages.
_SCORELINE = re.compile(r"(?<![\d.,/-])\d{1,2}-\d{1,2}(?![\d/-]|-\d)")
_MONEY = re.compile(r"[$£€]\s?\d")
_PERCENT = re.compile(r"\d\s?%")
_SPORTS = SECTIONS.index("sports")
_BUSINESS = SECTIONS.index("business")
_WORLD = SECTIONS.index("world")
_POLITICS = SECTIONS.index("politics")
_TECHNOLOGY = SECTIONS.index("technology")
_ENTERTAINMENT = SECTIONS.index("entertainment")
_HEALTH = SECTIONS.index("health")


def tokenize(text: str) -> list[str]:
    """Words with their case kept; possessive 's dropped so "Blair's" is "Blair"."""
    return _WORD.findall(_POSSESSIVE.sub("", text))


class _Lexicon:
    """Phrase/prefix matcher built once from section_lexicon.LEXICON."""

    def __init__(self, lexicon: dict[str, dict[float, str]]) -> None:
        # first token -> [(tokens, last_is_prefix, section index, weight)], longest first
        self.exact: dict[str, list[tuple[tuple[str, ...], bool, int, float]]] = {}
        self.cased: dict[str, list[tuple[tuple[str, ...], bool, int, float]]] = {}
        self.prefix: dict[str, list[tuple[int, float]]] = {}
        best: dict[tuple[tuple[str, ...], bool, bool, int], float] = {}
        for section, tiers in lexicon.items():
            index = SECTIONS.index(section)
            for weight, terms in tiers.items():
                for raw in terms.split(","):
                    term = " ".join(raw.split())
                    if not term:
                        continue
                    is_prefix = term.endswith("*")
                    cased = any(ch.isupper() for ch in term)
                    tokens = tuple(tokenize(term.rstrip("*")))
                    if not cased:
                        tokens = tuple(t.lower() for t in tokens)
                    key = (tokens, is_prefix, cased, index)
                    best[key] = max(best.get(key, 0.0), float(weight))
        for (tokens, is_prefix, cased, index), weight in best.items():
            if is_prefix and len(tokens) == 1:
                self.prefix.setdefault(tokens[0], []).append((index, weight))
                continue
            table = self.cased if cased else self.exact
            table.setdefault(tokens[0], []).append((tokens, is_prefix, index, weight))
        for table in (self.exact, self.cased):
            for entries in table.values():
                entries.sort(key=lambda e: -len(e[0]))
        self.prefix_lengths = sorted({len(p) for p in self.prefix})

    def evidence(self, tokens: list[str], weight: float, out: list[float]) -> None:
        """Add to `out`, per section, `weight` x each distinct matched term's weight
        (plus REPEAT_WEIGHT x log of its repetitions)."""
        lower = [t.lower() for t in tokens]
        counts: dict[tuple[int, tuple[str, ...], float], int] = {}
        covered = [0] * len(SECTIONS)  # per section: first position not yet covered
        n = len(tokens)
        for i in range(n):
            word = lower[i]
            matched: set[int] = set()
            for table, seq in ((self.cased, tokens), (self.exact, lower)):
                for terms, is_prefix, index, w in table.get(seq[i], ()):
                    if index in matched or covered[index] > i:
                        continue
                    size = len(terms)
                    if i + size > n:
                        continue
                    if is_prefix:
                        ok = seq[i : i + size - 1] == list(terms[:-1]) and seq[i + size - 1].startswith(terms[-1])
                    else:
                        ok = size == 1 or tuple(seq[i : i + size]) == terms
                    if ok:
                        matched.add(index)
                        covered[index] = i + size
                        key = (index, terms, w)
                        counts[key] = counts.get(key, 0) + 1
            for k in self.prefix_lengths:
                if k > len(word):
                    break
                for index, w in self.prefix.get(word[:k], ()):
                    if index in matched or covered[index] > i:
                        continue
                    matched.add(index)
                    key = (index, (word[:k],), w)
                    counts[key] = counts.get(key, 0) + 1
        for (index, _, w), count in counts.items():
            out[index] += weight * w * (1.0 + REPEAT_WEIGHT * math.log(count))


_lock = threading.Lock()
_lexicon: _Lexicon | None = None
_markers: tuple[_Lexicon, _Lexicon, _Lexicon] | None = None
_prototypes: tuple[np.ndarray, np.ndarray] | None = None


def _get_lexicon() -> _Lexicon:
    global _lexicon
    with _lock:
        if _lexicon is None:
            _lexicon = _Lexicon(section_lexicon.LEXICON)
        return _lexicon


def _get_markers() -> tuple[_Lexicon, _Lexicon, _Lexicon]:
    """(political actors, video-game markers, policing markers), each as a one-section
    lexicon."""
    global _markers
    with _lock:
        if _markers is None:
            _markers = (
                _Lexicon({"politics": {1.0: section_lexicon.POLITICAL_ACTORS}}),
                _Lexicon({"technology": {1.0: section_lexicon.MEDIUM_MARKERS}}),
                _Lexicon({"politics": {1.0: section_lexicon.POLICING_MARKERS}}),
            )
        return _markers


def _get_prototypes() -> tuple[np.ndarray, np.ndarray]:
    """(vectors, section index per vector) for the descriptions and example stories,
    embedded once per process."""
    global _prototypes
    with _lock:
        if _prototypes is None:
            from newsdesk.ai.embeddings import embed

            texts: list[str] = []
            owners: list[int] = []
            for index, section in enumerate(SECTIONS):
                examples = [
                    section_lexicon.DESCRIPTIONS[section],
                    *section_lexicon.PROTOTYPES[section],
                ]
                texts.extend(examples)
                owners.extend([index] * len(examples))
            _prototypes = (embed(texts), np.array(owners))
        return _prototypes


def lexical_scores(title: str, text: str) -> list[float]:
    """Weighted lexicon evidence per section (same order as SECTIONS)."""
    out = [0.0] * len(SECTIONS)
    lexicon = _get_lexicon()
    words = tokenize(text[: MAX_WORDS * 15])[:MAX_WORDS]
    title = title[:1000]
    title_words = tokenize(title)
    lexicon.evidence(title_words, TITLE_WEIGHT, out)
    lexicon.evidence(words[:LEAD_WORDS], LEAD_WEIGHT, out)
    lexicon.evidence(words[LEAD_WORDS:], 1.0, out)
    actors, medium, policing = _get_markers()
    found = [0.0] * len(SECTIONS)
    actors.evidence(title_words, 1.0, found)
    actors.evidence(words[:LEAD_WORDS], 1.0, found)
    if found[_POLITICS] > 0:
        out[_WORLD] *= ACTOR_WORLD_FACTOR
    found = [0.0] * len(SECTIONS)
    medium.evidence(title_words, TITLE_WEIGHT, found)
    medium.evidence(words, 1.0, found)
    if found[_TECHNOLOGY] >= MEDIUM_MIN:
        out[_SPORTS] *= CONTENT_FACTOR
        out[_ENTERTAINMENT] *= CONTENT_FACTOR
    found = [0.0] * len(SECTIONS)
    policing.evidence(title_words, TITLE_WEIGHT, found)
    policing.evidence(words[:LEAD_WORDS], LEAD_WEIGHT, found)
    if found[_POLITICS] >= POLICING_MIN:
        out[_HEALTH] *= CONTENT_FACTOR
    whole = f"{title}\n{text[:20000]}"
    results = len(_SCORELINE.findall(whole))
    if results:
        out[_SPORTS] += 1.5 * (1.0 + math.log(results))
    money = len(_MONEY.findall(whole)) + len(_PERCENT.findall(whole))
    if money:
        out[_BUSINESS] += 0.5 * (1.0 + math.log(money))
    out[_WORLD] *= WORLD_FACTOR
    return out


def embedding_scores(vector: np.ndarray) -> list[float]:
    """Per section: mean cosine similarity of the article with its 3 closest examples."""
    vectors, owners = _get_prototypes()
    sims = vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
    return [float(np.sort(sims[owners == index])[-3:].mean()) for index in range(len(SECTIONS))]


def _article_vector(title: str, text: str) -> np.ndarray:
    from newsdesk.ai.embeddings import embed

    return embed([f"{title}\n\n{text}".strip()])[0]


def classify(
    title: str,
    text: str,
    *,
    vector: np.ndarray | None = None,
    publisher: Iterable[str] = (),
    url: str = "",
) -> SectionGuess:
    """The article's section. `vector` is its unit-length MiniLM embedding of title and
    body when the caller has one (the enrichment pipeline does); else it is computed.
    `publisher` are the publisher's own section labels and categories for the article,
    `url` its address (see section_hints)."""
    title = title if isinstance(title, str) else ""
    text = text if isinstance(text, str) else ""
    if not (title.strip() or text.strip()):
        even = 1.0 / len(SECTIONS)
        return SectionGuess(FALLBACK, 0.0, {name: even for name in SECTIONS})
    scores = lexical_scores(title, text)
    if vector is None:
        vector = _article_vector(title, text)
    similarities = np.array(embedding_scores(vector)) / EMBEDDING_TEMPERATURE
    if np.all(np.isfinite(similarities)):
        prior = np.exp(similarities - similarities.max())
        prior *= EMBEDDING_MASS / prior.sum()
    else:  # a broken vector must not break enrichment: read the words alone
        prior = np.full(len(SECTIONS), EMBEDDING_MASS / len(SECTIONS))
    total = np.array(scores) + prior
    filed = section_hints.publisher_sections(publisher, url if isinstance(url, str) else "")
    if filed:
        share = PUBLISHER_SHARE * total.sum() / len(filed)
        for name in filed:
            total[SECTIONS.index(name)] += share
    shares = total / total.sum()
    best = int(shares.argmax())
    return SectionGuess(
        SECTIONS[best],
        round(float(shares[best]), 4),
        {name: round(float(share), 4) for name, share in zip(SECTIONS, shares)},
    )
