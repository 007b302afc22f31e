"""Ask-the-article: answer a reader's question with the article's own sentences.

The answer is always a quotation, never generated text, so it cannot say anything the
article does not; an LLM, when one is configured, may only reword what is quoted here.

Each sentence is scored on three signals, because each fails where another holds:

- meaning: cosine of MiniLM embeddings of the question and the sentence, which finds
  paraphrases ("consider" for "perceive") but is vague about names and numbers;
- words: the share of the question's content words (stemmed, weighted by how rare they
  are in the article) that the sentence contains, which pins down names and topics;
- the kind of answer: a "who" question wants a person, "when" a date or time, "how
  many" a number, "where" a place, "why" a reason, and sentences that hold one rank up.

A question is answered only when the best sentence clears a threshold calibrated on a
hand-written set of answerable and unanswerable questions (bench/ask.py), so
that "What is the capital of Peru?" asked of an article on Russia and Ukraine gets a
plain "the article does not say" instead of the least bad sentence.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from newsdesk.ai.sentences import Sentence, split_sentences
from newsdesk.ai.terms import STOP_WORDS
from newsdesk.ai.words import base_form, stem

__all__ = ["VERSION", "Answer", "Quote", "ask", "sentence_vectors"]

VERSION = "hybrid-minilm-idf-forms-synonyms-cues-2"

# Weights and threshold, calibrated on the evaluation set in bench/ask.py.
MEANING_WEIGHT = 1.0
WORDS_WEIGHT = 0.6
CUE_WEIGHT = 0.3
ANSWER_THRESHOLD = 0.8  # on the combined score of the best sentence
MIN_COVERAGE = 0.4  # weighted share of the question's content words that the article must use
MEANING_ALONE = 0.7  # ...or a sentence must mean nearly the same as the question
QUOTE_MARGIN = 0.12  # further quotes must score within this of the best
MAX_QUOTES = 3
# Synonyms (see _synonyms): two words whose MiniLM vectors are this close start to count
# as one, and count fully from SYNONYM_FULL ("buy"/"purchase", "car"/"vehicle" are about
# 0.87; unrelated words stay below 0.45, and an antonym can reach 0.75: "buy"/"sell").
SYNONYM_FLOOR = 0.65
SYNONYM_FULL = 0.9
SYNONYM_SENTENCES = 5


@dataclass(frozen=True)
class Quote:
    sentence: int  # index in split_sentences(text)
    text: str
    score: float


@dataclass(frozen=True)
class Answer:
    answered: bool  # False: the article does not answer the question
    text: str  # the quoted sentence(s), an LLM's wording of them, or that the article does not say
    quotes: list[Quote] = field(default_factory=list)  # best first
    worded: bool = False  # `text` rewords the quotes (an LLM's); else it is made of them


def sentence_vectors(text: str) -> np.ndarray:
    """Unit embeddings of the article's sentences, one row per split_sentences(text);
    worth caching per article, since embedding is most of the cost of ask()."""
    from newsdesk.ai.embeddings import embed

    return embed([_one_line(s.text) for s in split_sentences(text)])


def ask(question: str, title: str, text: str, *, sentence_vectors: np.ndarray | None = None) -> Answer:
    """Answer question from the article's sentences, or say plainly that it does not."""
    question = " ".join(question.split())
    if not question:
        return Answer(False, "Ask a question about the article.")
    sentences = split_sentences(text)
    if not sentences:
        return Answer(False, "The article has no text to answer from.")
    scored = score_sentences(question, sentences, sentence_vectors, title)
    best = int(np.argmax(scored.combined))
    if not _answerable(scored, best):
        return Answer(False, f'The article does not say: none of its sentences answers "{question}"')
    floor = max(ANSWER_THRESHOLD, scored.combined[best] - QUOTE_MARGIN)
    order = [int(i) for i in np.argsort(-scored.combined, kind="stable")]
    picked = [i for i in order if scored.combined[i] >= floor][:MAX_QUOTES]
    quotes = [Quote(i, _one_line(sentences[i].text), round(float(scored.combined[i]), 4)) for i in picked]
    return Answer(True, _answer_text(sentences, picked), quotes)


@dataclass(frozen=True)
class Scores:
    """Per-sentence signals, kept apart so the evaluation can calibrate them."""

    meaning: np.ndarray
    words: np.ndarray
    cue: np.ndarray
    combined: np.ndarray
    coverage: float  # weighted share of the question's content words that the article uses
    missing_names: list[str]  # names in the question that the article never mentions


def score_sentences(
    question: str, sentences: list[Sentence], vectors: np.ndarray | None = None, title: str = ""
) -> Scores:
    from newsdesk.ai.embeddings import embed

    texts = [_one_line(s.text) for s in sentences]
    if vectors is None or len(vectors) != len(sentences):
        vectors = embed(texts)
    meaning = vectors @ embed([question])[0]
    spelled_out = _spelled_out(question, texts)
    question_terms = _terms(question + " " + " ".join(spelled_out.values()))
    sentence_terms = [_terms(t) for t in texts]
    near = _synonyms(question, texts, sentence_terms, meaning)
    words, coverage = _word_match(question_terms, sentence_terms, near)
    cue = _answer_kind_cue(question, texts, question_terms)
    combined = MEANING_WEIGHT * meaning + WORDS_WEIGHT * words + CUE_WEIGHT * cue
    article_terms = set().union(*sentence_terms, _terms(title))
    missing = [name for name in _names(question) if name not in spelled_out and not _terms(name) <= article_terms]
    return Scores(meaning, words, cue, combined, coverage, missing)


def _answerable(scored: Scores, best: int) -> bool:
    if scored.combined[best] < ANSWER_THRESHOLD:
        return False
    # A question about someone or something the article never names ("What did Putin say
    # about China?", "Who is the chief executive of ...?") must not be answered by the
    # sentence that matches its other half.
    on_topic = not scored.missing_names and scored.coverage >= MIN_COVERAGE
    return on_topic or scored.meaning[best] >= MEANING_ALONE


_WORD = re.compile(r"\w+")


# Light verbs: in "before going to hospital" or "did they take part" the verb says little
# and the article words it another way ("was taken to a hospital"); as terms.LIGHT_VERBS
# does for get and make, they are no topic here (in any form: "went", "taken").
LIGHT_VERBS = frozenset("go come take get give put make do have happen".split())


def content_terms(text: str) -> list[str]:
    """Content words of `text`, each as the stem of its dictionary form, so that the
    forms of a word meet ("ate", "eaten" and "eats" are "eat"; "men" is "man"): stems
    alone keep irregular forms apart, and a question asks "eat" where the article says
    "had eaten". Light verbs are left out."""
    return [stem(base) for base in _base_forms(text) if base not in LIGHT_VERBS]


def _base_forms(text: str) -> list[str]:
    return [base_form(word) for word in _WORD.findall(text.lower()) if word not in STOP_WORDS and word != "_"]


def _terms(text: str) -> set[str]:
    """Content words, plus each pair of adjacent capitalised words written as one ("Time
    Warner" also as "timewarner"), since publishers spell company names both ways."""
    terms = set(content_terms(text))
    for run in _NAME_RUN.findall(text):
        parts = run.split()
        for first, second in itertools.pairwise(parts):
            terms.update(content_terms(first + second))
    return terms


def _word_match(
    question_terms: set[str], sentence_terms: list[set[str]], near: list[dict[str, float]] | None = None
) -> tuple[np.ndarray, float]:
    """Share of the question's content words in each sentence, each word weighted by its
    inverse sentence frequency in the article: a rare word says more than a common one,
    and a word the article never uses counts most against every sentence. A question
    word a sentence lacks counts for the part `near` gives it there (a synonym, see
    `_synonyms`). Also the same share over the whole article."""
    if not question_terms:
        return np.zeros(len(sentence_terms)), 1.0
    n = len(sentence_terms)
    near = near or [{} for _ in sentence_terms]
    weight = {
        term: math.log(1.0 + n / (sum(term in terms for terms in sentence_terms) + 0.5)) for term in question_terms
    }
    total = sum(weight.values())

    def found(term: str, i: int) -> float:
        return 1.0 if term in sentence_terms[i] else near[i].get(term, 0.0)

    words = np.array([sum(weight[t] * found(t, i) for t in question_terms) / total for i in range(n)])
    used = {t: max((found(t, i) for i in range(n)), default=0.0) for t in question_terms}
    return words, sum(weight[t] * share for t, share in used.items()) / total


def _synonyms(
    question: str, texts: list[str], sentence_terms: list[set[str]], meaning: np.ndarray
) -> list[dict[str, float]]:
    """Per sentence, the question's words it lacks but says in other words ("purchase"
    for "buy"), with how nearly: the cosine of the two words' MiniLM vectors, counted
    from SYNONYM_FLOOR (0) to SYNONYM_FULL (1). Only the SYNONYM_SENTENCES sentences
    closest in meaning are read, which bounds the words embedded per question."""
    wanted = _word_forms(question)
    near: list[dict[str, float]] = [{} for _ in texts]
    order = [int(i) for i in np.argsort(-meaning, kind="stable")[:SYNONYM_SENTENCES]]
    lacking = {i: {t: w for t, w in wanted.items() if t not in sentence_terms[i]} for i in order}
    # A sentence without content words ("It is.", "Why?") offers none: nothing to stack.
    offered = {i: forms for i in order if lacking[i] and (forms := _word_forms(texts[i]))}
    if not offered:
        return near
    vectors = _word_vectors({*wanted.values(), *(w for forms in offered.values() for w in forms.values())})
    for i, forms in offered.items():
        theirs = np.stack([vectors[w] for w in forms.values()])
        for term, word in lacking[i].items():
            closest = float(np.max(theirs @ vectors[word]))
            share = (closest - SYNONYM_FLOOR) / (SYNONYM_FULL - SYNONYM_FLOOR)
            if share > 0:
                near[i][term] = min(1.0, share)
    return near


def _word_forms(text: str) -> dict[str, str]:
    """{term: dictionary form} of the content words of `text` ("eaten" -> "eat": "eat")."""
    found: dict[str, str] = {}
    for base in _base_forms(text):
        if base not in LIGHT_VERBS and not base.isdigit():
            found.setdefault(stem(base), base)
    return found


_vector_cache: dict[str, np.ndarray] = {}
_vector_lock = threading.Lock()
WORD_VECTORS_KEPT = 50_000


def _word_vectors(words: set[str]) -> dict[str, np.ndarray]:
    """MiniLM vectors of single words, remembered per process (words recur across
    questions and articles; embedding them is most of the cost of `_synonyms`)."""
    from newsdesk.ai.embeddings import embed

    with _vector_lock:
        known = {w: _vector_cache[w] for w in words if w in _vector_cache}
    missing = sorted(words - known.keys())
    if missing:
        fresh = dict(zip(missing, embed(missing, batch_size=64), strict=True))
        with _vector_lock:
            if len(_vector_cache) + len(fresh) > WORD_VECTORS_KEPT:
                _vector_cache.clear()
            _vector_cache.update(fresh)
        known.update(fresh)
    return known


_NAME_RUN = re.compile(r"\b[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)+")
_CAPITALISED = re.compile(r"\b[A-Z][\w\-.]*")
_QUESTION_OPENERS = frozenset(
    "what who whom whose when where why how which is are was were do does did can could "
    "will would should has have had the a an in on at".split()
)


def _names(question: str) -> list[str]:
    """Capitalised words of the question (names of people, places, organisations),
    leaving out its first word and question words."""
    words = _CAPITALISED.findall(question)
    first = question.split()[0] if question.split() else ""
    return [w.strip(".") for w in words if w != first and w.lower() not in _QUESTION_OPENERS]


def _spelled_out(question: str, texts: list[str]) -> dict[str, str]:
    """The article's spelling of the question's acronyms ({"SNP": "Scottish National
    Party"}), so that the words can match."""
    found = {}
    for acronym in set(re.findall(r"\b[A-Z]{2,6}\b", question)):
        joiner = r"[\w\-']*\s+(?:(?:of|and|for|the|de|&)\s+)?"
        pattern = re.compile(r"\b" + joiner.join(acronym) + r"[\w\-']*")
        for text in texts:
            match = pattern.search(text)
            if match:
                found[acronym] = match.group(0)
                break
    return found


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_CUES = {
    "age": re.compile(
        r"\b\d+[- ]years?[- ]old\b|\baged? \d+|\b(?:teenager|teenage|in (?:his|her|their) \d+s)\b",
        re.IGNORECASE,
    ),
    "time": re.compile(
        rf"\b(?:{_MONTHS}|{_DAYS}|(?:1[89]|20)\d\d|\d{{1,2}}(?::\d\d)?\s?(?:am|pm|gmt|bst)|"
        r"yesterday|today|tomorrow|tonight|ago|since|until|earlier|later|previously|"
        r"(?:last|next|this) (?:week|month|year|spring|summer|autumn|winter)|"
        r"century|decade|season|weekend|morning|evening|night)\b",
        re.IGNORECASE,
    ),
    "number": re.compile(
        r"[$\u00a3\u20ac]?\d[\d,.]*%?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
        r"thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|double|"
        r"twice|triple)\b",
        re.IGNORECASE,
    ),
    "person": re.compile(
        r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z'\-]+(?:\s+(?:[A-Z]\.\s*)*[A-Z][a-z'\-]+)+|"
        r"\b(?:Mr|Mrs|Ms|Dr|Sir|Lord|Lady|President|Prime Minister|King|Queen|MPs?|MSPs?|MEPs?|"
        r"AMs?|CEO)\b|"
        r"\b(?i:president|minister|leader|counterpart|chief|chairman|chairwoman|executive|"
        r"spokesman|spokeswoman|spokesperson|secretary|director|head|founder|owner|analyst|"
        r"officials?|judge|prosecutor|lawyer|manager|coach|captain|player|striker|goalkeeper|"
        r"singer|actor|actress|director|producer|presenter|editor|designer|author|playwright|"
        r"writer|star|champion|medallist|pundit|boss|senator|governor|member|candidate|"
        r"professor|expert|economist|campaigner|activist|organiser|founder)\b",
    ),
    "place": re.compile(
        r"\b(?:in|at|from|to|near|across|outside|inside|into)\s+(?:the\s+)?[A-Z][\w\-]+|"
        r"\b(?:city|town|country|capital|region|province|state|village|stadium|venue|hometown|"
        r"headquarters|border)\b",
    ),
    "reason": re.compile(
        r"\b(?:because|due to|owing to|as a result|result of|in order to|so that|so as to|"
        r"reason|cause[sd]?|caused by|after|following|since|to pursue|aimed at|intended to|"
        r"blamed|fear|concern(?:ed)?|worr(?:y|ied)|injur(?:y|ed))\b",
        re.IGNORECASE,
    ),
}
_KINDS = [  # first match wins: "how old" is an age before it is a number
    ("age", re.compile(r"\bhow old\b|\bwhat age\b", re.IGNORECASE)),
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|far|long|tall|big|large|high|often)\b|"
            r"\bwhat (?:percentage|proportion|share|number|amount|price|age)\b|"
            r"\bwhat (?:was|is|were) the (?:score|result|total|figure|cost|price)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "time",
        re.compile(
            r"\bwhen\b|\bwhat (?:time|date|year|day|month)\b|\bwhich (?:year|day|month)\b|"
            r"\bhow long ago\b",
            re.IGNORECASE,
        ),
    ),
    (
        "person",
        re.compile(
            r"\bwho(?:m|se)?\b|\bwhich (?:person|people|player|company|firm|country)\b",
            re.IGNORECASE,
        ),
    ),
    ("place", re.compile(r"\bwhere\b|\bwhich (?:city|country|town|place|venue)\b", re.IGNORECASE)),
    (
        "reason",
        re.compile(r"\bwhy\b|\bwhat (?:caused|is the reason|was the reason)\b", re.IGNORECASE),
    ),
]


def question_kind(question: str) -> str | None:
    """The kind of answer a question asks for, if its wording says so."""
    found = _question_kind(question)
    return found[0] if found else None


def _question_kind(question: str) -> tuple[str, str] | None:
    for kind, pattern in _KINDS:
        match = pattern.search(question)
        if match:
            return kind, match.group(0)
    return None


def _answer_kind_cue(question: str, texts: list[str], question_terms: set[str]) -> np.ndarray:
    """1 for sentences holding the kind of thing asked for, other than what the question
    itself names ("Where are the Championships held?" wants a place besides them)."""
    found = _question_kind(question)
    if found is None:
        return np.zeros(len(texts))
    kind, wording = found
    pattern = _CUES[kind]
    named = question_terms - set(content_terms(wording))  # "how old": "old" is asked, not named

    def new_to_the_question(match: str) -> bool:
        if kind == "person" and _INSTITUTION.search(match):
            return False
        if kind == "number" and _YEAR.fullmatch(match):
            return False  # "in 2004" is when, not how many
        terms = set(content_terms(match))
        return not terms or terms.isdisjoint(named)

    return np.array([1.0 if any(new_to_the_question(m.group(0)) for m in pattern.finditer(t)) else 0.0 for t in texts])


_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_INSTITUTION = re.compile(
    r"\b(?:Commission|Committee|Council|Party|Parliament|Union|Bank|Group|Exchange|Association|"
    r"Department|Ministry|Office|Court|Championships?|Games|Cup|League|Inc|Ltd|Corp|Company|"
    r"University|School|Club|Agency|Authority|Service|Institute|Organisation|Organization|"
    r"Federation|News|Times|Post|Street|Road|Awards?|Festival|Museum|Centre|Center)\b"
)


def _answer_text(sentences: list[Sentence], picked: list[int]) -> str:
    """The best sentence, joined by its neighbour when that also answers: a quotation or
    a thought is often split over two sentences."""
    best = picked[0]
    lines = [best]
    for other in picked[1:]:
        if abs(other - best) == 1:
            lines.append(other)
            break
    return " ".join(_one_line(sentences[i].text) for i in sorted(lines))


def _one_line(text: str) -> str:
    return " ".join(text.split())
