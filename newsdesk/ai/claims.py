"""Claims of an article: sentences that state figures, and quotes with who said them.

A story's publishers are compared claim by claim (`newsdesk.ai.claim_alignment`), so a
claim keeps what comparing needs: each figure as a value with its dimension (money in
a currency, a percentage, a count of some named thing, a measure in a unit, an age, a
day or a time of day), the hedge around it ("about", "more than", "up to"), the words
around it, and the sentence's people, places and organisations. Rules, not a model:
news figures are written in a handful of shapes, a rule says why it took a number (and
why it left one out: years, ordinals, model names such as "iPhone 6", ranges), and it
runs in well under a millisecond a sentence.

English in full. German, French and Spanish (`LOCALES`) give the figures whose meaning
does not rest on English grammar: money, percentages and death and injury tolls, with
numbers written their way ("1.234,5", "1 234,5", "3,5 Mio. €", "12 Prozent", "15 morts"),
and quotations in their marks („…“, «…») with a named speaker (first and last name);
a bare number whose counted noun would need the language's grammar is left out (a wrong
figure is worse than none). Other languages give no claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from newsdesk.ai import words
from newsdesk.ai.sentences import split_sentences
from newsdesk.ai.terms import content_terms

__all__ = ["VERSION", "Claim", "Figure", "Quote", "extract_claims", "figures_in", "quote_in"]

# 2: a product's size before its name ("16-inch MacBook") is no figure; German, French, Spanish
VERSION = "claims-2"
MAX_CLAIMS = 40  # per article: the embedding of each claim sentence is part of the enrichment budget
MAX_SENTENCE_CHARS = 600  # longer "sentences" are lists, tables or run-on captions
QUOTE_MIN_WORDS = 3  # shorter quotations are single words in scare quotes, no statement
WINDOW = 8  # words each side of a figure that say what it counts


@dataclass(frozen=True)
class Figure:
    """One figure of a sentence. `dimension` says what kind of thing it measures (two
    figures can only be the same claim when their dimensions are equal): "money:USD",
    "percent", "count:death", "unit:ton", "age", "date", "time"..."""

    value: float
    dimension: str
    text: str  # as written: "$4.5bn", "12 people", "3.2%"
    start: int  # character offsets in the sentence
    end: int
    hedge: str = ""  # "about" | "over" (more than, at least) | "under" (nearly, up to) | ""
    context: tuple[str, ...] = ()  # stemmed content words around it
    anchors: tuple[str, ...] = ()  # the nearest two content words each side: what the figure is of

    @property
    def precision(self) -> float:
        """The step of the written number: 1.8 (billion) -> 0.1 billion, 300 -> 100, 312 -> 1."""
        return _precision(self.value, self.text)


@dataclass(frozen=True)
class Quote:
    text: str  # the words inside the quotation marks
    speaker: str  # the name given with it, "" when none or only a pronoun


@dataclass(frozen=True)
class Claim:
    sentence: int  # index in split_sentences(text); -1 for the headline
    text: str
    figures: tuple[Figure, ...] = ()
    quote: Quote | None = None
    entities: tuple[str, ...] = ()  # names of people, places, organisations in the sentence
    terms: tuple[str, ...] = field(default=(), repr=False)  # stemmed content words of the sentence

    @property
    def kind(self) -> str:
        return "quote" if self.quote is not None and not self.figures else "figure"


# --- Numbers -------------------------------------------------------------------------

_UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
}  # fmt: skip
_FRACTIONS = {
    "half": 50.0, "one-half": 50.0, "one-third": 100 / 3, "a third": 100 / 3, "two-thirds": 200 / 3,
    "one-quarter": 25.0, "a quarter": 25.0, "three-quarters": 75.0, "one-fifth": 20.0,
}  # fmt: skip
_SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "mln": 1e6, "billion": 1e9, "bn": 1e9,
    "b": 1e9, "bln": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12,
}  # fmt: skip
_CURRENCIES = {
    "$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP",
    "¥": "JPY", "c$": "CAD", "a$": "AUD", "hk$": "HKD", "nz$": "NZD", "rs": "INR", "₹": "INR",
}  # fmt: skip
_CURRENCY_WORDS = {
    "dollars": "USD", "dollar": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP",
    "yen": "JPY", "yuan": "CNY", "rupees": "INR", "roubles": "RUB", "rubles": "RUB",
}  # fmt: skip
# Measures: the written unit -> one name per unit (no conversion between units: a figure
# in miles and one in kilometres are never compared, so never called a conflict).
_MEASURES = {
    "km": "km", "kilometres": "km", "kilometers": "km", "kilometre": "km", "kilometer": "km",
    "miles": "mile", "mile": "mile", "metres": "m", "meters": "m", "metre": "m", "meter": "m",
    "feet": "foot", "foot": "foot", "ft": "foot", "inches": "inch", "inch": "inch",
    "tons": "ton", "ton": "ton", "tonnes": "tonne", "tonne": "tonne", "kg": "kg", "kilograms": "kg",
    "pounds": "lb", "lbs": "lb", "lb": "lb", "litres": "litre", "liters": "litre", "gallons": "gallon",
    "barrels": "barrel", "degrees": "degree", "mph": "mph", "km/h": "km/h",
    "seconds": "second", "second": "second", "minutes": "minute", "minute": "minute", "min": "minute",
    "hours": "hour", "hour": "hour", "days": "day", "day": "day", "weeks": "week", "week": "week",
    "months": "month", "month": "month", "years": "year", "year": "year", "decades": "decade",
    "gb": "GB", "tb": "TB", "mb": "MB", "ghz": "GHz", "mw": "MW", "gw": "GW", "kwh": "kWh",
    "acres": "acre", "hectares": "hectare", "votes": "vote",
}  # fmt: skip
# Counted things that are the same thing under another word: the death toll in every wording.
_COUNT_SYNONYMS = {
    "killed": "death", "dead": "death", "death": "death", "died": "death", "fatality": "death",
    "life": "death", "victim": "death", "body": "death",
    "injured": "injured", "wounded": "injured", "hurt": "injured", "injury": "injured",
    "person": "people", "people": "people", "individual": "people", "resident": "people",
    "firm": "company", "company": "company", "employee": "worker", "worker": "worker", "staff": "worker",
    "job": "job", "car": "vehicle", "vehicle": "vehicle", "suv": "vehicle", "truck": "vehicle",
    "nation": "country", "country": "country", "arrest": "arrest", "arrested": "arrest", "detained": "arrest",
    "missing": "missing", "evacuated": "evacuated", "displaced": "displaced",
}  # fmt: skip
# Words between a number and the noun it counts that are not that noun.
_COUNT_SKIP = frozenset("more than other others further additional new people's of the".split())
# Nouns of lists and manners of speaking, not of counted things ("5 best moments", "3 ways").
_VAGUE_NOUNS = frozenset(
    """time times thing things way ways part parts kind kinds sort lot lots number numbers point
    points step steps reason reasons fact facts others other more less one ones moment moments tip
    tips question questions lesson lessons takeaway takeaways highlight highlights scene scenes
    photo photos picture pictures sign signs secret secrets rule rules""".split()
)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ]
    )
    for m in names
}  # fmt: skip

_NUMBER = r"\d{1,3}(?:[,‚]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORD_NUMBER = "(?i:" + "|".join(sorted(_UNITS_WORDS, key=len, reverse=True)) + ")"
_FIGURE = re.compile(
    rf"""(?P<cur>(?:US|C|A|HK|NZ)?[$€£¥₹]\s?|\b(?:USD|EUR|GBP|Rs\.?)\s?)?
    (?P<num>{_NUMBER}|\b(?:{_WORD_NUMBER})(?:[-\s](?:{_WORD_NUMBER}))?\b)
    (?P<scale>\s?(?i:thousand|million|billion|trillion|bn|mn|mln|bln|tn|trn)\b|[kKmMbB]\b)?
    (?P<pct>\s?(?:%|(?i:per\s?cent|percent|pct|pc)\b))?""",
    re.VERBOSE,
)
_FRACTION = re.compile(
    r"\b(one-half|half|one-third|a third|two-thirds|one-quarter|a quarter|three-quarters|one-fifth)\b"
)
_DATE = re.compile(
    r"\b(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s(?P<day>\d{1,2})\b(?!:|\d|,\d)",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s?(?P<ap>a\.m\.|p\.m\.|am\b|pm\b)", re.IGNORECASE)
_HEDGES = (
    ("about", re.compile(r"\b(?:about|around|roughly|approximately|some|an estimated|estimated|almost|nearly|close to|just (?:under|short of)|or so)\s*$", re.I)),
    ("over", re.compile(r"\b(?:more than|over|at least|upwards of|in excess of|exceeding|above|no fewer than|no less than|as low as|starting at|starting from|from)\s*$", re.I)),
    ("under", re.compile(r"\b(?:up to|fewer than|less than|under|as many as|as much as|as high as|below|at most|no more than)\s*$", re.I)),
)  # fmt: skip
# A figure per something is a rate, another thing than the total: "$65 a share" is not "$1.8 billion".
_RATE = re.compile(
    r"\s?(?:/|\bper\s|\ba\s|\ban\s|\beach\s)\s?(share|shr|barrel|month|year|week|day|hour|second|person|head|"
    r"ton|tonne|gallon|litre|liter|unit|seat|user|customer|referral)\b",
    re.IGNORECASE,
)
_RATE_UNITS = {"shr": "share", "liter": "litre"}
_YEAR = re.compile(r"^(?:1[89]\d\d|20\d\d)$")
_NAME_BEFORE = re.compile(r"(?:[A-Z][\w&]*|[a-z]+[A-Z]\w*)[- ]$")  # "iPhone 6", "Xbox 360", "F-35", "Title 2"
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


def _to_number(raw: str) -> float | None:
    raw = raw.strip().lower()
    if raw[:1].isdigit():
        return float(raw.replace(",", "").replace("‚", ""))
    total = 0
    for part in re.split(r"[-\s]+", raw):
        if part not in _UNITS_WORDS:
            return None
        total += _UNITS_WORDS[part]
    return float(total)


def _precision(value: float, text: str) -> float:
    """The step of the number as written, in the figure's units: "$1.8 billion" -> 1e8,
    "300" -> 100, "312" -> 1; a number in words is exact."""
    match = re.search(_NUMBER, text)
    digits = match.group().replace(",", "").replace("‚", "") if match else ""
    if not digits or not float(digits):
        return 1.0
    scale = value / float(digits)
    if "." in digits:
        return scale * 10 ** -len(digits.split(".")[1])
    stripped = digits.rstrip("0")
    return scale * 10 ** (len(digits) - len(stripped))


def _hedge(before: str) -> str:
    for name, pattern in _HEDGES:
        if pattern.search(before):
            return name
    return ""


def _next_words(text: str, at: int, n: int) -> list[tuple[str, int]]:
    return [(m.group(), m.end()) for m in _WORD_RE.finditer(text, at)][:n]


_PLURAL_WORDS = frozenset(
    "people children men women police staff personnel cattle sheep fish aircraft troops crew".split()
)
# A size or capacity said of a product before its noun describes which product it is
# ("the 16-inch MacBook Pro", "a 13-inch model", "a 64GB iPhone", "a 4K TV"); it reports
# nothing, and two publishers naming the same model are not agreeing on a figure.
_SPEC_UNITS = frozenset("inch GB TB MB GHz megapixel mAh core bit K".split())
_PRODUCT_NOUNS = frozenset(
    """model models version versions screen screens display displays laptop laptops notebook notebooks
    phone phones smartphone smartphones handset handsets tablet tablets tv tvs television televisions
    monitor monitors device devices edition editions variant variants camera cameras sensor sensors
    chip chips processor processors drive drives option options configuration configurations machine
    machines computer computers pc pcs panel panels lens lenses console consoles iphone ipad macbook""".split()
)


def _names_a_product(rest: str) -> bool:
    """Whether the word right after a size (no "of" between) is a product's noun or name."""
    match = re.match(r"[\s-]*([A-Za-z][\w'’-]*)", rest)
    if match is None:
        return False
    word = match.group(1)
    return word.lower() in _PRODUCT_NOUNS or any(c.isupper() for c in word)


_RANKS = frozenset("top no number week day round stage phase season chapter title article section class".split())


def _counted(after: str, value: float) -> str:
    """The thing a bare number counts: the first plural noun within a few words after it
    ("12 more people", "two big Russian gas pipeline projects"), singular; "" when none:
    a count of several things names them in the plural, so "Nexus 6 release" or "Top 40
    Money Makers" count nothing."""
    for word, _ in _next_words(after, 0, 5):
        low = word.lower().strip("'’-")
        if low in _COUNT_SYNONYMS and low not in ("person", "life", "body", "firm", "company", "job", "injury"):
            return _COUNT_SYNONYMS[low]  # "12 killed", "30 injured", "40 dead"
        if low in _COUNT_SKIP or "-" in low or any(c.isupper() for c in word[1:]):
            continue  # "part-time", "DDoS": modifiers before the counted noun
        if words.is_stopword(low) or not low.isalpha() or low in _VAGUE_NOUNS:
            return ""
        plural = low in _PLURAL_WORDS or (low.endswith("s") and not low.endswith("ss") and len(low) > 3)
        if plural or value == 1:
            one = low if low in _PLURAL_WORDS else words.singular(low)
            if one == low and low.endswith("s") and low not in _PLURAL_WORDS:
                one = low[:-1]
            return _COUNT_SYNONYMS.get(one, one)
    return ""


def _casualty_after(after: str) -> str:
    """A toll written as "12 people were killed", "12 dead": the casualty word within a
    few words after a count of people."""
    for word, _ in _next_words(after, 0, 5):
        low = word.lower()
        if low in ("killed", "dead", "died", "injured", "wounded", "hurt", "missing", "arrested"):
            return _COUNT_SYNONYMS.get(low, low)
    return ""


def _casualty_before(before: str) -> str:
    """A toll written as "killed 12 people", "left 30 injured"."""
    for word in reversed(_WORD_RE.findall(before)[-3:]):
        low = word.lower()
        if low in ("kill", "kills", "killing", "killed", "injured", "wounded", "hurt", "arrested", "evacuated"):
            return "death" if low.startswith("kill") else _COUNT_SYNONYMS.get(low, low)
    return ""


def figures_in(sentence: str) -> list[Figure]:
    """The figures of a sentence, left to right."""
    found: list[Figure] = []
    taken: list[tuple[int, int]] = []

    def add(value: float, dimension: str, start: int, end: int, hedge: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        context, anchors = _context(sentence, start, end)
        found.append(Figure(value, dimension, sentence[start:end].strip(), start, end, hedge, context, anchors))

    for m in _CLOCK.finditer(sentence):
        hour = int(m.group("h")) % 12 + (12 if m.group("ap").lower().startswith("p") else 0)
        if int(m.group("h")) <= 12:
            add(hour * 60 + int(m.group("m") or 0), "time", m.start(), m.end(), "")
    for m in _DATE.finditer(sentence):
        month = _MONTHS.get(m.group("month").lower().rstrip("."))
        day = int(m.group("day"))
        if month and 1 <= day <= 31 and not (m.group("month").lower() == "may" and m.group("month")[0].islower()):
            add(month * 100 + day, "date", m.start(), m.end(), "")
    for m in _FRACTION.finditer(sentence):
        after = sentence[m.end() : m.end() + 40].lower()
        if after.startswith(" of ") or after.startswith("-"):
            add(_FRACTIONS[m.group(1).lower()], "percent", m.start(), m.end(), _hedge(sentence[: m.start()]))
    for m in _FIGURE.finditer(sentence):
        if m.group("cur") and re.search(r"\d[\w.]*\s?\($", sentence[: m.start()]):
            continue  # a conversion in brackets: "$27.5bn (£14.5bn)" states one figure, not two
        figure = _figure(sentence, m)
        if figure is not None:
            value, dimension, end = figure
            hedge = "over" if sentence[end : end + 1] == "+" else _hedge(sentence[: m.start()])
            add(value, dimension, m.start(), end, hedge)
    return sorted(found, key=lambda f: f.start)


def _figure(sentence: str, m: re.Match[str]) -> tuple[float, str, int] | None:
    """Value, dimension and end of one number match, or None for a number that states no
    figure of its own (a year, an ordinal, part of a name, a range's end)."""
    raw, start, end = m.group("num"), m.start(), m.end()
    value = _to_number(raw)
    if value is None:
        return None
    word_number = not raw[:1].isdigit()
    before, after = sentence[:start], sentence[end:]
    currency, scale, pct = m.group("cur"), m.group("scale"), m.group("pct")
    if re.match(r"(?:st|nd|rd|th|s)\b|[-–]\d|:\d|/\d|[A-Za-z]\d|[AC-JLN-Zac-jln-oq-z]\b", after) or re.search(
        r"\d[-–]$|\d\s?(?:to|and)\s$|[/#]$|[A-Za-z]$", before
    ):
        return None  # an ordinal, a range, a score or a time, a fraction, "Q4", "4Q", "i9", "500L"
    previous = _WORD_RE.findall(before)[-1:]
    if previous and previous[0].lower() in _RANKS and not currency:
        return None  # a rank or a number in a name: "Top 40", "Week 13", "No. 10"
    if re.search(r"(?:\bnon-|\b(?:not|no|never)\s)$", before, re.IGNORECASE):
        return None  # what something is not: "Not 900p", "a non-1080p title"
    if scale and scale == "K" and not currency and _names_a_product(sentence[m.end("scale") :]):
        return None  # a screen's resolution: "a 4K TV", "8K Samsung"
    if scale:
        word = scale.strip().lower()
        if word in ("m", "b", "k") and not currency and scale.strip() not in ("k", "K"):
            # "5m" is metres without a currency; "150k" is a thousand whatever it counts
            scale = None
            end = m.start("scale") if m.start("scale") > 0 else end
        else:
            value *= _SCALES[word]
    if pct:
        return value, "percent", end
    rate = _RATE.match(sentence[end:])
    per = "/" + _RATE_UNITS.get(rate.group(1).lower(), rate.group(1).lower()) if rate else ""
    if currency:
        name = _CURRENCIES.get(currency.strip().lower().rstrip("."), "USD")
        return value, "money:" + name + per, end + (rate.end() if rate else 0)
    rest = sentence[end:]
    after_word = _next_words(rest, 0, 1)
    follower = after_word[0][0].lower() if after_word else ""
    if follower in _CURRENCY_WORDS and re.match(r"\s*" + re.escape(after_word[0][0]), rest):
        return value, "money:" + _CURRENCY_WORDS[follower], end + len(rest) - len(rest.lstrip()) + len(follower)
    if word_number and value < 2 and not scale:
        return None  # "one of them", "a one-off"
    if not scale and _YEAR.match(raw):
        return None  # a year: when, not how many
    if not word_number and _named(sentence, before):
        return None  # a model or name: "iPhone 6", "Windows 10", "Week 13"
    hyphen = re.match(r"-(year|month|mth|week|day|hour|minute|mile|inch|foot|metre|meter)s?-?(old)?\b", rest, re.I)
    if hyphen:
        if hyphen.group(2):
            return value, "age", end + hyphen.end()
        unit = hyphen.group(1).lower().replace("mth", "month")
        unit = _MEASURES.get(unit + "s", unit)
        if unit in _SPEC_UNITS and _names_a_product(rest[hyphen.end() :]):
            return None  # which product: "the 16-inch MacBook Pro", "a 13-inch model"
        return value, "unit:" + unit, end + hyphen.end()
    compound = re.match(r"-([a-z]{3,})\b", rest)
    if compound and not word_number:
        if compound.group(1) in _SPEC_UNITS and _names_a_product(rest[compound.end() :]):
            return None  # "a 12-megapixel camera"
        return value, "count:" + compound.group(1), end + compound.end()  # "27-page order", "30-date run"
    if re.match(r"p\b", rest) and not word_number:
        return value, "unit:p", end + 1  # a video resolution: "792p"
    measure = re.match(r"\s?(km/h|[A-Za-z]+)\b", rest)
    if measure and measure.group(1).lower() in _MEASURES and not (measure.group(1).lower() == "m" and not scale):
        unit = _MEASURES[measure.group(1).lower()]
        if re.match(r"\s?years?\s+old\b", rest):
            return value, "age", end + re.match(r"\s?years?\s+old", rest).end()  # type: ignore[union-attr]
        if unit == "year" and re.match(r"\s?years?\s+(ago|later|earlier)\b", rest):
            return None  # when, not how long something lasted
        if unit in _SPEC_UNITS and _names_a_product(rest[measure.end() :]):
            return None  # a capacity naming the model: "the 64GB iPhone", "a 1TB model"
        return value, "unit:" + unit, end + measure.end()
    noun = _counted(rest, value)
    if not noun:
        toll = _casualty_before(before)  # "floods kill 12 in Italy"
        return (value, "count:" + toll, end) if toll else None  # else what it counts cannot be told
    if noun == "people":
        noun = _casualty_after(rest) or _casualty_before(before) or noun
    return value, "count:" + noun, end + len(_next_words(rest, 0, 1)[0][0]) + (len(rest) - len(rest.lstrip()))


def _named(sentence: str, before: str) -> bool:
    """Whether the number follows a name ("iPhone 6", "Windows 10", "Week 13"): a
    capitalised word that is no function word, outside a headline in title case (where
    "Stole 100000 Bitcoins" has every word capitalised)."""
    match = _NAME_BEFORE.search(before)
    if match is None or before.rstrip().endswith((",", ":")):
        return False
    word = match.group().strip(" -").lower()
    if words.is_stopword(word):
        return False
    tokens = _WORD_RE.findall(sentence)
    title_case = len(tokens) >= 4 and sum(t[0].isupper() for t in tokens) >= 0.6 * len(tokens)
    return not title_case or any(c.isupper() for c in match.group()[1:])


# What numbers leave behind when read as words ("$27.5bn" -> "bn"): no content.
_RESIDUE = frozenset("bn mn mln bln tn trn k pc pct gmt bst utc am pm".split())


def _terms(found: list[str], language: str = "en") -> list[str]:
    return [t for t in content_terms(" ".join(found), language) if not t.isdigit() and t not in _RESIDUE]


_LOCAL_WORD_RE = re.compile(r"[^\W\d_][\w'’\-]*")  # letters of any script: "Behörden", "décès"


def _context(sentence: str, start: int, end: int, language: str = "en") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stemmed content words up to WINDOW words each side of the figure (what it counts
    and what happened to it: "comparable sales rose", "revenue rose"), and of those the
    nearest two each side, the figure's anchors ("loss" in "a $21 billion loss")."""
    word = _WORD_RE if language == "en" else _LOCAL_WORD_RE
    before = _terms(word.findall(sentence[:start])[-WINDOW:], language)
    after = _terms(word.findall(sentence[end:])[:WINDOW], language)
    return tuple(before + after), tuple(before[-2:] + after[:2])


def words_after(sentence: str, figure: Figure, n: int = 2) -> list[str]:
    """The first n words after the figure as written, not past its clause."""
    rest = sentence[figure.end :]
    clause = re.split(r"[,;:.!?()\u2014\u2013\"“”]", rest, maxsplit=1)[0]  # not past the clause
    return _WORD_RE.findall(clause)[:n]


def next_word(sentence: str, figure: Figure) -> str:
    """The stemmed content word right after the figure (within two words), or ""."""
    terms = _terms(words_after(sentence, figure))
    return terms[0] if terms else ""


# --- Quotes ------------------------------------------------------------------------------

_QUOTED = re.compile(r"[\"“”„«]\s?([^\"“”„«»]{12,}?)\s?[\"“”»]")
_VERBS = r"(?:said|says|told|added|wrote|writes|tweeted|stated|explained|recalled|continued|comments|commented|warned|according to)"
_NAME = r"((?:[A-Z][\w.'’\-]+\s){0,3}[A-Z][\w'’\-]+)"
_SPEAKER_AFTER = re.compile(rf"^[\s,]*{_VERBS}\s+(?:the\s+)?{_NAME}|^[\s,]*{_NAME}\s+{_VERBS}")
_SPEAKER_BEFORE = re.compile(rf"{_NAME}(?:,[^,]{{0,80}},)?\s+{_VERBS}(?:\s+\w+){{0,4}}[\s:,]*$")
_PRONOUNS = frozenset("he she they it we i".split())
_NOT_NAMES = frozenset("the a an this that it he she they we but and".split())


def _longest_quotation(sentence: str) -> re.Match[str] | None:
    """The longest quoted run of at least QUOTE_MIN_WORDS words, in any language's marks."""
    best = None
    for m in _QUOTED.finditer(sentence):
        text = m.group(1).strip(" ,.")
        if len(text.split()) >= QUOTE_MIN_WORDS and (best is None or len(text) > len(best.group(1))):
            best = m
    return best


def quote_in(sentence: str) -> Quote | None:
    """The longest quotation of at least QUOTE_MIN_WORDS words in the sentence and its speaker, when a
    verb of saying names one next to it ("... ," Noem said; Kennedy said: "...")."""
    best = _longest_quotation(sentence)
    if best is None:
        return None
    text = best.group(1).strip(" ,.")
    said = _SPEAKER_AFTER.search(sentence[best.end() :]) or _SPEAKER_BEFORE.search(sentence[: best.start()])
    if said is None and len(text.split()) <= 6 and all(w[:1].isupper() or not w[:1].isalpha() for w in text.split()):
        return None  # a title in quotation marks ("House of Cards"), not words someone said
    speaker = ""
    after = _SPEAKER_AFTER.search(sentence[best.end() :])
    before = _SPEAKER_BEFORE.search(sentence[: best.start()])
    for found in (after, before):
        if found is None:
            continue
        name = next((g for g in found.groups() if g), "")
        if name and name.split()[0].lower() not in _NOT_NAMES and name.lower() not in _PRONOUNS:
            speaker = name
            break
    return Quote(text, speaker)


# --- Other languages: figures that need no English grammar, quotations in their marks -----


@dataclass(frozen=True)
class Locale:
    scales: dict[str, float]  # "Mio." -> 1e6 (lower case)
    percent: tuple[str, ...]  # "prozent"
    currencies: dict[str, str]  # "euro" -> "EUR" (lower case; symbols are shared)
    tolls: dict[str, str]  # "tote" -> "death", "verletzte" -> "injured"
    about: tuple[str, ...]  # words before a figure that make it approximate
    over: tuple[str, ...]
    under: tuple[str, ...]
    verbs: tuple[str, ...]  # verbs of saying, as attribution ("sagte", "a déclaré", "según")
    articles: tuple[str, ...]  # before a speaker's title: "der", "le", "el"
    language: str = "en"  # for the stemmer of the words around a figure


LOCALES: dict[str, Locale] = {
    "de": Locale(
        language="de",
        scales={"tausend": 1e3, "mio.": 1e6, "mio": 1e6, "million": 1e6, "millionen": 1e6, "mrd.": 1e9,
                "mrd": 1e9, "milliarde": 1e9, "milliarden": 1e9, "billion": 1e12, "billionen": 1e12},
        percent=("prozent",),
        currencies={"euro": "EUR", "dollar": "USD", "us-dollar": "USD", "pfund": "GBP", "franken": "CHF"},
        tolls={"tote": "death", "toten": "death", "todesopfer": "death", "getötete": "death",
               "verletzte": "injured", "verletzten": "injured", "verletzt": "injured"},
        about=("etwa", "rund", "ungefähr", "circa", "ca.", "knapp", "fast", "beinahe"),
        over=("mehr als", "über", "mindestens", "wenigstens"),
        under=("bis zu", "weniger als", "höchstens"),
        verbs=("sagte", "sagt", "erklärte", "betonte", "teilte mit", "so"),
        articles=("der", "die", "das"),
    ),
    "fr": Locale(
        language="fr",
        scales={"mille": 1e3, "million": 1e6, "millions": 1e6, "md": 1e9, "mds": 1e9, "milliard": 1e9,
                "milliards": 1e9},
        percent=("pour cent", "pourcent"),
        currencies={"euros": "EUR", "euro": "EUR", "dollars": "USD", "dollar": "USD", "livres": "GBP",
                    "francs": "CHF"},
        tolls={"morts": "death", "mort": "death", "tués": "death", "décès": "death", "victimes": "death",
               "blessés": "injured", "blessées": "injured"},
        about=("environ", "près de", "quelque", "presque", "autour de", "quasiment"),
        over=("plus de", "au moins", "au-delà de"),
        under=("jusqu'à", "jusqu’à", "moins de", "au plus"),
        verbs=("a dit", "a déclaré", "a affirmé", "a expliqué", "a indiqué", "a souligné", "déclare", "selon",
               "dit", "affirme", "explique"),
        articles=("le", "la", "les", "l'", "l’"),
    ),
    "es": Locale(
        language="es",
        scales={"mil": 1e3, "millón": 1e6, "millones": 1e6, "mil millones": 1e9, "millardo": 1e9,
                "millardos": 1e9},
        percent=("por ciento",),
        currencies={"euros": "EUR", "euro": "EUR", "dólares": "USD", "dólar": "USD", "libras": "GBP",
                    "pesos": "MXN"},
        tolls={"muertos": "death", "muertas": "death", "fallecidos": "death", "víctimas": "death",
               "muertes": "death", "heridos": "injured", "heridas": "injured"},
        about=("unos", "unas", "alrededor de", "cerca de", "casi", "aproximadamente"),
        over=("más de", "al menos", "por lo menos"),
        under=("hasta", "menos de"),
        verbs=("dijo", "afirmó", "declaró", "explicó", "señaló", "aseguró", "indicó", "según"),
        articles=("el", "la", "los", "las"),
    ),
}  # fmt: skip

# "1.234.567", "1 234" (spaces, thin or no-break, as French writes thousands), "3,5", "12".
_LOCAL_NUMBER = re.compile(
    r"(?<![\w.,])(?P<num>\d{1,3}(?:(?:\.|[ \u00a0\u202f])\d{3})+(?:,\d+)?|\d+(?:,\d+)?)(?![\w]|[.,:/]\d)"
)
_LOCAL_SYMBOL = {"€": "EUR", "$": "USD", "£": "GBP", "us$": "USD", "chf": "CHF"}


def _local_number(raw: str) -> float:
    return float(re.sub(r"[.\s\u00a0\u202f]", "", raw).replace(",", "."))


def _local_words(text: str, n: int) -> list[str]:
    return re.findall(r"[^\W\d_][\w'’.-]*|[€$£%]", text)[:n]


def local_figures_in(sentence: str, language: str) -> list[Figure]:
    """The money, percentages and tolls of a German, French or Spanish sentence."""
    loc = LOCALES.get(language[:2])
    if loc is None:
        return []
    found: list[Figure] = []
    for m in _LOCAL_NUMBER.finditer(sentence):
        raw, start, end = m.group("num"), m.start(), m.end()
        value = _local_number(raw)
        before, rest = sentence[:start], sentence[end:]
        low_rest = rest.lower()
        if re.search(r"[-–]\s?$|\d\s?(?:bis|à|a|y|und|et)\s$", before) or re.match(r"\s?[-–]\s?\d", rest):
            continue  # a range or a score
        scale = 1.0
        for word in sorted(loc.scales, key=len, reverse=True):
            if re.match(r"\s" + re.escape(word) + r"(?!\w)", low_rest):
                scale, end = loc.scales[word], end + 1 + len(word)
                low_rest = sentence[end:].lower()
                break
        symbol_before = re.search(r"(US\$|[€$£])\s?$", before)
        if re.match(r"\s?%", low_rest) or any(re.match(r"\s" + re.escape(p) + r"\b", low_rest) for p in loc.percent):
            words_ = "|".join(re.escape(w) for w in loc.percent)
            pct = re.match(rf"\s?%|\s(?i:{words_})", sentence[end:])
            text_end = end + (pct.end() if pct else 0)
            dimension, value = "percent", value * scale
        elif symbol_before or re.match(r"\s?(?:US\$|[€$£])", sentence[end:]):
            symbol = symbol_before.group(1) if symbol_before else re.match(r"\s?(US\$|[€$£])", sentence[end:]).group(1)  # type: ignore[union-attr]
            if symbol_before:
                start = symbol_before.start()
                text_end = end
            else:
                text_end = end + len(re.match(r"\s?(?:US\$|[€$£])", sentence[end:]).group())  # type: ignore[union-attr]
            dimension, value = "money:" + _LOCAL_SYMBOL[symbol.lower()], value * scale
        else:
            tail = sentence[end:]
            skip = re.match(r"\s(?i:de|d'|d’)\s?", tail) if scale != 1.0 else None  # "millions d'euros"
            after = _local_words(tail[skip.end() :] if skip else tail, 1)
            word = after[0].lower().rstrip(".,") if after else ""
            if word in loc.currencies:
                text_end = end + sentence[end:].lower().index(word) + len(word)
                dimension, value = "money:" + loc.currencies[word], value * scale
            elif word in loc.tolls and scale == 1.0:
                text_end = end + sentence[end:].lower().index(word) + len(word)
                dimension = "count:" + loc.tolls[word]
            else:
                continue  # what a bare number counts needs the language's grammar: left out
        if scale == 1.0 and dimension != "percent" and not dimension.startswith("money") and _YEAR.match(raw):
            continue
        head = before.lower()
        hedge = next(
            (name for name, words_ in (("about", loc.about), ("over", loc.over), ("under", loc.under))
             if any(re.search(r"(?:^|\s)" + re.escape(w) + r"\s*$", head) for w in words_)),
            "",
        )  # fmt: skip
        context, anchors = _context(sentence, start, text_end, loc.language)
        found.append(
            Figure(value, dimension, sentence[start:text_end].strip(), start, text_end, hedge, context, anchors)
        )
    return found


def local_quote_in(sentence: str, language: str) -> Quote | None:
    """The longest quotation of a German, French or Spanish sentence, in its marks, and
    its speaker when a verb of saying names one by first and last name next to it."""
    loc = LOCALES.get(language[:2])
    if loc is None:
        return None
    best = _longest_quotation(sentence)
    if best is None:
        return None
    verbs = "(?:" + "|".join(re.escape(v) for v in loc.verbs) + ")"
    articles = "(?:" + "|".join(re.escape(a) for a in loc.articles) + r")\s*"
    # A first and last name (a title alone, "der Minister", is no speaker to compare).
    name = r"((?:[A-ZÀ-Ý][\w'’\-]+\s){1,3}[A-ZÀ-Ý][\w'’\-]+)"
    after = re.search(rf"^[\s,]*{verbs}\s+(?:{articles})?(?:\w+\s)?{name}", sentence[best.end() :])
    before = re.search(rf"{name}(?:,[^,]{{0,80}},)?\s+{verbs}[\s:,]*$", sentence[: best.start()])
    found = after or before
    speaker = found.group(1) if found else ""
    return Quote(best.group(1).strip(" ,."), speaker)


# --- Claims --------------------------------------------------------------------------


def extract_claims(
    title: str, text: str, *, language: str = "en", names: dict[int, tuple[str, ...]] | None = None
) -> list[Claim]:
    """The claims of an article: its headline and each sentence with a figure or a quote,
    in article order, at most MAX_CLAIMS. `names` (sentence index -> entity names) adds
    the entities found by `newsdesk.ai.entities` over the whole article."""
    lang = (language or "en").lower()[:2]
    if lang != "en" and lang not in LOCALES:
        return []
    names = names or {}
    units: list[tuple[int, str]] = [(-1, title.strip())] if title.strip() else []
    units += [(s.index, s.text) for s in split_sentences(text)]
    claims: list[Claim] = []
    for index, sentence in units:
        if len(sentence) > MAX_SENTENCE_CHARS or len(sentence.split()) < 4:
            continue
        figures = tuple(figures_in(sentence) if lang == "en" else local_figures_in(sentence, lang))
        quote = quote_in(sentence) if lang == "en" else local_quote_in(sentence, lang)
        if not figures and quote is None:
            continue
        claims.append(
            Claim(
                index,
                sentence,
                figures,
                quote,
                names.get(index, ()),
                tuple(content_terms(sentence, lang)),
            )
        )
        if len(claims) >= MAX_CLAIMS:
            break
    return claims


def sentence_entities(title: str, text: str, *, language: str = "en") -> dict[int, tuple[str, ...]]:
    """Entity names per sentence index (-1: the headline), from the article's mentions."""
    from newsdesk.ai.entities import find_mentions

    sentences = split_sentences(text)
    out: dict[int, list[str]] = {}
    for mention in find_mentions(title, text, language=language):
        if mention.in_title:
            index = -1
        else:
            at = mention.tokens[0].start
            index = next((s.index for s in sentences if s.start <= at < s.end), -2)
        name = mention.name or mention.surface
        if index != -2 and name not in out.setdefault(index, []):
            out[index].append(name)
    return {k: tuple(v) for k, v in out.items()}


def to_data(claim: Claim) -> dict:
    """What is stored of a claim besides its sentence index and text (JSON)."""
    return {
        "figures": [
            {
                "value": f.value,
                "dimension": f.dimension,
                "text": f.text,
                "start": f.start,
                "end": f.end,
                "hedge": f.hedge,
                "context": list(f.context),
                "anchors": list(f.anchors),
            }
            for f in claim.figures
        ],
        "quote": {"text": claim.quote.text, "speaker": claim.quote.speaker} if claim.quote else None,
        "entities": list(claim.entities),
        "terms": list(claim.terms),
    }


def from_data(sentence: int, text: str, data: dict) -> Claim:
    figures = tuple(
        Figure(
            float(f["value"]),
            f["dimension"],
            f["text"],
            int(f["start"]),
            int(f["end"]),
            f.get("hedge", ""),
            tuple(f.get("context", ())),
            tuple(f.get("anchors", ())),
        )
        for f in data.get("figures", ())
    )
    quote = data.get("quote")
    return Claim(
        sentence,
        text,
        figures,
        Quote(quote["text"], quote.get("speaker", "")) if quote else None,
        tuple(data.get("entities", ())),
        tuple(data.get("terms", ())),
    )
