"""People, places and organisations named in an article, by rules and gazetteers.

No model: a statistical tagger costs tens of milliseconds an article, and news names
are mostly easy — capitalised runs of words in mid-sentence. What makes them hard is
handled by explicit rules, each cheap:

* a capital at a sentence start, after a quote or in a Title Case Headline proves
  nothing, so such words need other evidence (a gazetteer entry, a first name, not
  being an English word) before they count;
* titles ("President", "envoy") are stripped and mark a person; "Ltd", "Ministry of"
  mark an organisation; GeoNames marks places; given names mark people;
* later mentions by surname ("Putin", "Mr Netanyahu") and acronyms ("ICC") are linked
  to the full name earlier in the article;
* spellings are merged through `aliases.alias_key` and the alias table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from newsdesk.ai import aliases, gazetteer, words
from newsdesk.ai.tokens import Token, tokenize

PERSON, PLACE, ORGANIZATION = "person", "place", "organization"
CONNECTORS = frozenset(
    [
        "of",
        "de",
        "da",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "bin",
        "ibn",
        "al",
        "el",
        "la",
        "le",
        "du",
        "dos",
        "das",
        "y",
        "for",
    ]
)
# Words that can stand before a title without being part of the name ("former judge").
MODIFIERS = frozenset(["former", "late", "acting", "interim", "deputy", "incoming", "outgoing"])
SPEECH_VERBS = frozenset(
    [
        "said",
        "says",
        "told",
        "added",
        "stressed",
        "argued",
        "wrote",
        "claimed",
        "insisted",
        "noted",
        "explained",
        "warned",
        "announced",
        "tweeted",
        "asked",
        "replied",
        "recalled",
        "urged",
        "admitted",
        "denied",
        "confirmed",
    ]
)
COMPOUND_TAILS = frozenset(["made", "led", "run", "born", "based", "style", "like", "wide", "owned", "era", "old"])
PLACE_PREPOSITIONS = frozenset(["in", "near", "outside", "inside"])
DIRECTIONS = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "central",
        "upper",
        "lower",
        "greater",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
        "northeastern",
        "northwestern",
        "southeastern",
        "southwestern",
    ]
)


@dataclass
class Mention:
    surface: str  # as written, titles and possessive stripped
    tokens: list[Token]
    position: int  # index of the first token in the article (headline first)
    in_title: bool
    person_cue: bool = False
    kind: str | None = None
    name: str | None = None  # canonical name once known
    weight: float = 1.0  # nationality words count half
    prev_word: str | None = None  # the lowercase word before the name, if any
    next_word: str | None = None
    weak: bool = False  # one common word capitalised only by its position ("Officials")
    link: Mention | None = None  # a longer name of the same thing, kind not yet settled

    @property
    def key(self) -> str:
        return aliases.alias_key(self.surface)


@dataclass
class Entity:
    name: str
    kind: str
    mentions: int
    weight: float
    first_position: int
    in_title: bool
    surfaces: list[str] = field(default_factory=list)


def find_entities(title: str, text: str, *, language: str = "en") -> list[Entity]:
    """Entities of the article, in order of first mention."""
    head = tokenize(title or "", headline=True)
    body = tokenize(text or "")
    headline_title_case = bool(head) and all(t.ambiguous for t in head if t.is_word)
    mentions = []
    if not headline_title_case:
        mentions += _mentions(head, 0, in_title=True)
    mentions += _mentions(body, len(head), in_title=False)
    for m in mentions:
        _resolve(m)
    _link_people(mentions)
    _link_acronyms(mentions)
    lowercase = {t.lower for t in body if t.is_word and not t.capitalized}
    strong = {m.key for m in mentions if not m.weak}
    kept = [m for m in mentions if m.link is not None or _decide(m, lowercase, strong, language)]
    kept_ids = {id(m) for m in kept}
    for m in kept:
        if m.link is not None:
            m.kind, m.name = m.link.kind, m.link.name
    kept = [m for m in kept if m.link is None or id(m.link) in kept_ids]
    if headline_title_case:
        kept += _headline_matches(head, kept)
    return _group(kept)


# -- finding candidate names -------------------------------------------------------------


def _is_name_token(t: Token) -> bool:
    if not (t.is_word and (t.capitalized or t.all_caps)):
        return False
    tail = t.text.rsplit("-", 1)[-1] if "-" in t.text else ""
    # "AIDS-related", "US-made", "Western-backed" describe, they do not name.
    return not (tail.islower() and (tail.endswith("ed") or tail in COMPOUND_TAILS))


def _raw_spans(tokens: list[Token]) -> Iterable[tuple[int, int]]:
    """Maximal runs of capitalised words, bridged by "of", "de", "van"...; a
    possessive or a capitalised function word ends a run."""
    i, n = 0, len(tokens)
    while i < n:
        if not _is_name_token(tokens[i]):
            i += 1
            continue
        j = i + 1
        while j < n and not tokens[j - 1].possessive and not tokens[j].gap_newline:
            t = tokens[j]
            if t.text == "." and _initial(tokens[j - 1]) and j + 1 < n and _is_name_token(tokens[j + 1]):
                j += 1  # "Richard P. Feynman"
            elif _is_name_token(t) and not (words.is_stopword(t.lower) and not t.all_caps):
                j += 1
            elif (
                t.lower in CONNECTORS
                and not t.capitalized
                and j + 1 < n
                and _is_name_token(tokens[j + 1])
                and _may_bridge(tokens, i, j)
            ):
                j += 2
            else:
                break
        yield i, j
        i = j


def _may_bridge(tokens: list[Token], start: int, j: int) -> bool:
    """Name particles ("van", "bin", "de") always join; "of" and "for" only after the
    head of an institution or a place ("Bank of Communications", "Gulf of Mexico"),
    not in "Fans of Baltimore Orioles" or "Nico Rizzo of Loma Linda University"."""
    if tokens[j].lower not in ("of", "for"):
        return True
    before = tokens[j - 1]
    return (
        words.is_org_word(before.text)
        or before.lower in gazetteer.PLACE_WORDS
        or words.is_title(before.lower)
        or words.is_org_word(tokens[start].text)
        or _known_place(list(tokens[start:j]))
    )  # "United States of America"


def _initial(t: Token) -> bool:
    return t.kind == "word" and len(t.text) == 1 and t.text.isupper()


def _split_caps(span: list[Token]) -> list[list[Token]]:
    """ "Kerry Grens NEW YORK" -> "Kerry Grens", "NEW YORK": a run of two or more
    all-caps words inside a mixed-case span is a dateline or another name."""
    runs: list[list[Token]] = []
    for t in span:
        caps = t.all_caps and len(t.text) > 1
        if runs and (caps == (runs[-1][-1].all_caps and len(runs[-1][-1].text) > 1)):
            runs[-1].append(t)
        else:
            runs.append([t])
    if len(runs) > 1 and any(len(r) > 1 and r[0].all_caps for r in runs):
        return runs
    return [span]


def _split_of(span: list[Token]) -> list[list[Token]]:
    """ "Nico Rizzo of Loma Linda University" -> the person, the university."""
    for k, t in enumerate(span):
        if (
            t.lower == "of"
            and 2 <= k <= 3
            and words.is_first_name(span[0].text)
            and not any(words.is_org_word(x.text) for x in span[:k])
        ):
            return [span[:k], span[k + 1 :]]
    return [span]


def _mentions(tokens: list[Token], offset: int, *, in_title: bool) -> list[Mention]:
    out: list[Mention] = []
    for start, end in _raw_spans(tokens):
        prev = tokens[start - 1] if start else None
        cue = (
            prev is not None and prev.is_word and not prev.capitalized and words.is_title(prev.lower)
        )  # "envoy Geng Shuang"
        raw = [t for t in tokens[start:end] if t.text != "."]
        pieces = [p for caps in _split_caps(raw) for p in _split_of(caps)]
        parts = [pc for k, p in enumerate(pieces) for pc in _split_titles(p, cue and k == 0)]
        for part, part_cue in _split_places(parts):
            part = _trim(part)
            if len(part) == 1 and len(part[0].text) == 1:
                continue  # a lone letter
            if part:
                first, last = part[0].index, part[-1].index
                before = tokens[first - 1] if first else None
                after = tokens[last + 1] if last + 1 < len(tokens) else None
                out.append(
                    Mention(
                        _surface(part),
                        part,
                        offset + first,
                        in_title,
                        person_cue=part_cue,
                        prev_word=before.lower if before is not None and before.is_word else None,
                        next_word=after.lower if after is not None and after.is_word else None,
                        weak=len(part) == 1 and part[0].ambiguous and _plain_word(part[0], strict=True),
                    )
                )
    return out


def _split_titles(span: list[Token], cue: bool) -> list[tuple[list[Token], bool]]:
    """["Russian", "President", "Vladimir", "Putin"] -> [Russian], [Vladimir Putin]+cue.
    A role word only counts as a title when a name follows ("General Motors" stays)."""
    for j, t in enumerate(span):
        if not (words.is_title(t.lower) or t.lower in aliases.HONORIFICS):
            continue
        k = j
        while k < len(span) and (
            words.is_title(span[k].lower) or span[k].lower in CONNECTORS or span[k].lower in MODIFIERS
        ):
            k += 1
        rest = span[k:]
        while len(rest) > 1 and words.is_dictionary_word(rest[0].text) and not words.is_first_name(rest[0].text):
            rest = rest[1:]  # "Secretary of State Antony Blinken"
        before = [x for x in span[:j] if x.lower not in MODIFIERS]
        if not rest:
            return [(before, False)] if before else []  # "U.N. Secretary-General", "Police Chief"
        if _looks_like_name(rest, honorific=t.lower.rstrip(".") in aliases.HONORIFICS):
            return ([(before, False)] if before else []) + [(rest, True)]
    return [(span, cue)]


def _split_places(parts: list[tuple[list[Token], bool]]) -> list[tuple[list[Token], bool]]:
    """ "U.S. NAFLD" -> "U.S.", "NAFLD": a known place glued to an unknown rest that
    has no organisation word ("China Daily" loses "Daily", "Bank of China" stays), or
    to a full name ("London Iannis Xenakis" in a listing)."""
    out = []
    for span, cue in parts:
        if (
            len(span) > 1
            and not cue
            and not _known(span)
            and not any(words.is_org_word(t.text) or t.lower in CONNECTORS for t in span)
            and span[0].lower not in DIRECTIONS
            and _known_place(span[:1])
            and (
                not words.is_first_name(span[0].text)  # "Paris Hilton" stays
                or (len(span) > 2 and words.is_first_name(span[1].text))
            )
        ):
            out += [(span[:1], False), (span[1:], False)]
        else:
            out.append((span, cue))
    return out


def _looks_like_name(tokens: list[Token], *, honorific: bool) -> bool:
    if any(t.all_caps for t in tokens) or words.is_org_word(tokens[-1].text):
        return False
    entry = aliases.lookup(_surface(tokens))
    if entry is not None:
        return entry.kind == PERSON
    if gazetteer.lookup(_surface(tokens)) is not None:
        return False
    if honorific:
        return True
    return any(words.is_first_name(t.text) or not words.is_dictionary_word(t.text) for t in tokens)


def _trim(span: list[Token]) -> list[Token]:
    """Drop leading function words and calendar words ("The", "On Thursday"), modifiers
    ("Former"), and a sentence-initial common word ("However", "Officials")."""
    span = list(span)
    while span and (span[0].lower in CONNECTORS or span[-1].lower in CONNECTORS):
        span = span[1:] if span[0].lower in CONNECTORS else span[:-1]
    while span and (
        _function_word(span[0])
        or words.is_calendar(span[0].lower)
        or span[0].lower in MODIFIERS
        or (len(span) > 1 and span[0].ambiguous and _leading_filler(span))
    ):
        span = span[1:]
    while span and (words.is_calendar(span[-1].lower) or _function_word(span[-1])):
        span = span[:-1]
    return span


def _leading_filler(span: list[Token]) -> bool:
    """A sentence-initial word glued to a name by its capital: "Earlier Putin",
    "Senior Obama aide" lose it; "Security Council" and "Google Buzz" keep it."""
    first = span[0]
    if not _plain_word(first) or _known(span) or _known(span[:1]):
        return False
    classes = words.word_classes(first.lower)
    return words.is_stopword(first.lower) or (bool(classes) and "NOUN" not in classes)


def _function_word(t: Token) -> bool:
    """ "The", "THE", but not "US" or "IT" when the alias table knows them."""
    return words.is_stopword(t.lower) and not (t.all_caps and aliases.lookup(t.text))


def _plain_word(t: Token, *, strict: bool = False) -> bool:
    """An English word that may be capitalised here only because of its position:
    one lemminflect knows, or a frequent one ("Cops"). Given names count as names
    unless `strict` and they are words too ("Key", "Will", "Mark")."""
    if t.all_caps and len(t.text) <= 5:
        return False
    if words.is_stopword(t.lower):
        return True
    if gazetteer.demonym_country(t.text):
        return False
    known = bool(words.word_classes(t.lower))
    if words.is_first_name(t.text) and not (strict and known):
        return False
    return known or words.zipf(t.lower) >= 3.8


def _known(span: list[Token]) -> bool:
    surface = _surface(span)
    return aliases.lookup(surface) is not None or gazetteer.lookup(surface) is not None


def _known_place(span: list[Token]) -> bool:
    entry = aliases.lookup(_surface(span))
    if entry is not None:
        return entry.kind == PLACE
    return gazetteer.lookup(_surface(span)) is not None


def _surface(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens)


# -- what kind of thing each name is -----------------------------------------------------


def _resolve(m: Mention) -> None:
    surface, toks = m.surface, m.tokens
    for form in (surface, surface[:-1] if len(toks) == 1 and surface.endswith("s") else None):
        if not form:
            continue  # the second form reads "Israels" (apostrophe lost) as "Israel"
        entry = aliases.lookup(form)
        if entry is not None:
            m.kind, m.name = entry.kind, entry.name
            return
        place = gazetteer.lookup(form)
        if place is not None:
            m.kind, m.name = PLACE, place.name
            return
    if len(toks) > 1 and toks[0].lower in DIRECTIONS:
        place = gazetteer.lookup(_surface(toks[1:]))
        if place is not None and (place.country or place.population >= 10**6):
            m.kind, m.name = PLACE, f"{toks[0].text} {place.name}"  # "Southern California"
            return
    if len(toks) <= 2:
        country = gazetteer.demonym_country(surface)
        if country:
            m.kind, m.name, m.weight = PLACE, country, 0.5
            return
    if m.person_cue:
        m.kind = PERSON
        return
    last, first = toks[-1].text, toks[0].text
    bridged = any(t.lower in CONNECTORS for t in toks)
    if words.is_org_word(last) or (bridged and any(words.is_org_word(t.text) for t in toks)):
        m.kind = ORGANIZATION  # "Industrial Bank", "Stanford Center for Internet and Society"
        return
    if len(toks) > 1 and (last.lower() in gazetteer.PLACE_WORDS or first.lower() in gazetteer.PLACE_PREFIXES):
        m.kind = PLACE  # "Phinger Lakes", "Kursk Region", "Mount Kenya"
        return
    if (
        len(toks) > 1
        and words.is_first_name(first)
        and not toks[0].all_caps
        and not words.is_title(first)
        and not gazetteer.demonym_country(first)
    ):
        m.kind = PERSON  # "Alexander Lukashenko", not "Major League Baseball"


def _link_people(mentions: list[Mention]) -> None:
    """ "Putin" after "Vladimir Putin" is him: a surname (or failing that a first name,
    "Ban" of "Ban Ki-moon", "Ronnie" of "Ronnie Wood") links to the nearest full name,
    even where a gazetteer would say otherwise ("Jackson" after "Michael Jackson").
    A lone word that ends an organisation's name is that organisation ("Buzz" after
    "Google Buzz")."""
    full = [m for m in mentions if m.kind == PERSON and len(m.tokens) > 1]
    groups = [m for m in mentions if m.kind in (None, ORGANIZATION) and m.name is None and len(m.tokens) > 1]
    full_ids = {id(m) for m in full}
    by_last: dict[str, list[Mention]] = {}
    by_first: dict[str, list[Mention]] = {}
    for m in full:
        parts = m.key.split()
        by_last.setdefault(parts[-1], []).append(m)
        by_first.setdefault(parts[0], []).append(m)
        if len(parts) > 2:
            by_last.setdefault(" ".join(parts[1:]), []).append(m)
    org_parts: dict[str, dict[str, Mention]] = {}
    for m in groups:
        org_parts.setdefault(m.key.split()[-1], {}).setdefault(m.key, m)
    for m in mentions:
        if id(m) in full_ids or len(m.tokens) > 2 or aliases.lookup(m.surface) is not None:
            continue
        key = m.key
        plural = key[:-1] if key.endswith("s") else None
        targets = (
            by_last.get(key) or by_last.get(plural or "") or by_first.get(key)
            if len(m.tokens) == 1 or m.kind == PERSON
            else by_last.get(key)
        )
        if targets:
            target = min(targets, key=lambda f: (f.position > m.position, abs(f.position - m.position)))
            m.kind, m.name, m.weight = PERSON, target.name or _person_name(target), 1.0
        elif (
            m.kind in (None, ORGANIZATION)
            and m.name is None
            and len(m.tokens) == 1
            and len(org_parts.get(key, ())) == 1
        ):
            m.link = next(iter(org_parts[key].values()))  # settled with it in _decide


def _link_acronyms(mentions: list[Mention]) -> None:
    """ "ICC" after "International Criminal Court" is that court."""
    long: dict[str, Mention] = {}
    for m in mentions:
        if len(m.tokens) > 1:
            initials = "".join(t.text[0] for t in m.tokens if t.lower not in CONNECTORS and t.lower != "and")
            if len(initials) > 1:
                long.setdefault(initials.upper(), m)
    for m in mentions:
        if m.name is None and len(m.tokens) == 1 and m.tokens[0].all_caps:
            target = long.get(m.surface.replace(".", "").upper())
            if target is not None:
                m.kind = target.kind or ORGANIZATION
                m.name = target.name or target.surface


def _decide(m: Mention, lowercase: set[str], strong: set[str], language: str) -> bool:
    """Settle the kind of a name no rule recognised, or drop it; False drops it."""
    if m.name is not None:
        return language == "en" or not _minor_place(m)
    if m.weak and m.key not in strong:
        return False  # "Officials said": capitalised by position, seen nowhere else as a name
    if m.kind == PERSON:
        m.name = _person_name(m)
        return True
    if language != "en":
        return False  # capitals mean other things in other languages (German nouns)
    if len(m.tokens) == 1 and words.is_org_word(m.surface):
        return False  # "Labs", "Co" alone, not linked to a longer name
    if m.kind is not None:
        m.name = m.surface
        return True
    toks = [t for t in m.tokens if not _initial(t)] or m.tokens
    if len(toks) == 1:
        t = toks[0]
        if t.all_caps and len(t.text) <= 6:
            m.kind = ORGANIZATION
        elif m.next_word in SPEECH_VERBS or (words.is_first_name(t.text) and not t.all_caps):
            m.kind = PERSON
        elif words.is_dictionary_word(t.text) or t.lower in lowercase:
            return False  # "Western", "Internet": capitalised words, not names
        elif m.prev_word in PLACE_PREPOSITIONS:
            m.kind = PLACE
        else:
            m.kind = ORGANIZATION
    elif (
        len(toks) <= 3
        and not gazetteer.demonym_country(toks[0].text)
        and not any(words.is_dictionary_word(t.text) or t.all_caps or t.lower in CONNECTORS for t in toks)
    ):
        m.kind = PERSON  # "Cuno Tarfusser", "Geng Shuang"
    else:
        m.kind = ORGANIZATION
    m.name = _person_name(m) if m.kind == PERSON else m.surface
    return True


def _minor_place(m: Mention) -> bool:
    """Outside English, a smaller city's name is too often a plain word ("Länder")."""
    if m.kind != PLACE or aliases.lookup(m.surface) is not None:
        return False
    place = gazetteer.lookup(m.surface)
    return place is not None and not place.country and place.population < 10**6


def _person_name(m: Mention) -> str:
    """Full name without middle initials ("George W. Bush" -> "George Bush")."""
    kept = [t.text for t in m.tokens if not (len(t.text.rstrip(".")) == 1 and t.text[0].isupper())]
    return " ".join(kept) or m.surface


def _headline_matches(head: list[Token], found: list[Mention]) -> list[Mention]:
    """Names in a Title Case Headline: only word runs that are already known names of
    this article or of the alias table and gazetteer (capitals prove nothing there)."""
    known = {m.key: m for m in found}
    out = []
    wordtoks = [t for t in head if t.is_word]
    i = 0
    while i < len(wordtoks):
        for n in (4, 3, 2, 1):
            part = wordtoks[i : i + n]
            if len(part) < n or _function_word(part[0]) or _function_word(part[-1]):
                continue
            surface = _surface(part)
            key = aliases.alias_key(surface)
            m = Mention(surface, part, head.index(part[0]), True)
            if key in known:
                m.kind, m.name = known[key].kind, known[key].name
            else:
                _resolve(m)
                if m.name is None:
                    continue
            out.append(m)
            i += n
            break
        else:
            i += 1
    return out


def _group(mentions: list[Mention]) -> list[Entity]:
    """One entity per canonical name; its kind is the one most of its mentions got."""
    groups: dict[str, Entity] = {}
    votes: dict[str, dict[str, float]] = {}
    for m in sorted(mentions, key=lambda m: m.position):
        name = m.name or m.surface
        key = aliases.alias_key(name)
        e = groups.get(key)
        if e is None:
            e = groups[key] = Entity(name, m.kind or ORGANIZATION, 0, 0.0, m.position, False)
            votes[key] = {}
        tally = votes[key]
        tally[m.kind or ORGANIZATION] = tally.get(m.kind or ORGANIZATION, 0.0) + len(m.tokens)
        e.kind = max(tally, key=lambda k: tally[k])
        e.mentions += 1
        e.weight += m.weight
        e.in_title = e.in_title or m.in_title
        if m.surface not in e.surfaces:
            e.surfaces.append(m.surface)
    return list(groups.values())


def salience(e: Entity, n_tokens: int) -> float:
    """How central an entity is to the article: mentions (with diminishing returns),
    headline presence, and an early first mention."""
    early = 1.0 - min(1.0, e.first_position / max(1, n_tokens))
    return math.log1p(e.weight) + 0.7 * e.in_title + 0.4 * early
