"""People, places and organisations named in an article, by rules, gazetteers and the
article's own evidence.

Chosen by `newsdesk bench predict entities` (CoNLL-2003 English, dev part): these
rules reach F1 0.82 at about 1,000 sentences/s on one core, where spaCy's
en_core_web_sm, the only spaCy model on PyPI here, reaches 0.64-0.67 at 450-700
sentences/s, and letting it settle the kinds the rules only guess scores no better
(0.818); the best anchor, a gazetteer of CoNLL's own training names, has 0.722.

* candidate names are capitalised runs, cut and trimmed in `name_spans`; a capital at
  a sentence start, in a Title Case headline or in a line of capitals proves nothing,
  so such words need other evidence (a gazetteer entry, a given name, not being an
  English word) before they count;
* titles ("President") mark a person; "Ltd", "Ministry of" an organisation; "Cup",
  "Open" an event (`OTHER`); GeoNames and the alias table places; given names and
  initials people;
* later mentions by surname ("Putin", "Mr Netanyahu") and acronyms ("ICC") are linked
  to the full name earlier in the article;
* a kind that only a fallback rule gave is `guessed`: `entity_context` settles it
  from the rest of the article ("the town of Tavildara", "Pohang 3 Ulsan 2") or
  leaves it open, and hashtags show a one-word guess as a topic, not as a kind;
* spellings are merged through `aliases.alias_key` and the alias table, and
  shortened given names ("Pat Carlineo") join the full one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from newsdesk.ai import aliases, gazetteer, words
from newsdesk.ai.entity_context import apply_context, join_name_variants
from newsdesk.ai.mentions import ORGANIZATION, OTHER, PERSON, PLACE, Mention
from newsdesk.ai.name_spans import (
    CONNECTORS,
    DIRECTIONS,
    EVENT_WORDS,
    candidate_mentions,
    function_word,
    given_name,
    has_digit,
    is_initial,
    known_place,
    surface_of,
)
from newsdesk.ai.tokens import Token, tokenize

__all__ = [
    "ORGANIZATION",
    "OTHER",
    "PERSON",
    "PLACE",
    "Entity",
    "Mention",
    "find_entities",
    "find_mentions",
    "salience",
]

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
PLACE_PREPOSITIONS = frozenset(["in", "near", "outside", "inside"])


@dataclass
class Entity:
    name: str
    kind: str
    mentions: int
    weight: float
    first_position: int
    in_title: bool
    surfaces: list[str] = field(default_factory=list)
    guessed: bool = True  # every mention's kind came from a fallback rule, none from evidence


def find_entities(title: str, text: str, *, language: str = "en") -> list[Entity]:
    """Entities of the article, in order of first mention."""
    return _group(find_mentions(title, text, language=language))


def find_mentions(title: str, text: str, *, language: str = "en") -> list[Mention]:
    """Every mention of a person, place or organisation, each with its kind and the
    canonical name it refers to, in article order (headline first). Token offsets are
    into `title` for mentions `in_title`, into `text` otherwise: the entities
    benchmark scores these spans, hashtags group them (`find_entities`)."""
    head = tokenize(title or "", headline=True)
    body = tokenize(text or "")
    headline_title_case = bool(head) and all(t.ambiguous for t in head if t.is_word)
    mentions = []
    if not headline_title_case:
        mentions += candidate_mentions(head, 0, in_title=True)
    shouted = _shouted_lines(body)
    in_shouted = {i for start, end in shouted for i in range(start, end)}
    mentions += [m for m in candidate_mentions(body, len(head), in_title=False) if m.tokens[0].index not in in_shouted]
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
            m.kind, m.name, m.guessed = m.link.kind, m.link.name, m.link.guessed
    kept = [m for m in kept if m.link is None or id(m.link) in kept_ids]
    if headline_title_case:
        kept += _headline_matches(head, kept)
    for start, end in shouted:
        kept += _headline_matches(body, kept, start=start, end=end, offset=len(head))
    if language == "en":
        kept = apply_context(kept)
    join_name_variants(kept)
    return sorted(kept, key=lambda m: m.position)


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
        place = gazetteer.lookup(surface_of(toks[1:]))
        if place is not None and (place.country or place.population >= 10**6):
            m.kind, m.name = PLACE, f"{toks[0].text} {place.name}"  # "Southern California"
            return
    if len(toks) <= 2:
        country = gazetteer.demonym_country(surface)
        if country:
            m.kind, m.name, m.weight, m.demonym = PLACE, country, 0.5, True
            return
    if len(toks) > 1 and toks[-1].lower in EVENT_WORDS and not toks[-1].all_caps:
        m.kind, m.name = OTHER, surface
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
        and given_name(first)
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
            m.kind, m.name, m.weight, m.demonym = PERSON, target.name or _person_name(target), 1.0, False
            m.guessed = target.guessed
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
    if language != "en":  # capitals mean other things there (German nouns)
        if m.name is None and _foreign_person(m, lowercase, language):
            m.name = _person_name(m)
            return True
        return m.name is not None and _vouched(m)
    if m.name is not None:
        return True
    if m.weak and m.key not in strong:
        return False  # "Officials said": capitalised by position, seen nowhere else as a name
    if m.kind == PERSON:
        m.name = _person_name(m)
        return True
    if len(m.tokens) == 1 and words.is_org_word(m.surface):
        return False  # "Labs", "Co" alone, not linked to a longer name
    if m.kind is not None:
        m.name = m.surface
        return True
    if _shouted_words(m.tokens):
        return False  # "CRUDE OIL", "PREVIOUS ACTUAL", "NOTE": capitals for emphasis
    toks = [t for t in m.tokens if not is_initial(t)] or m.tokens
    initials = len(toks) < len(m.tokens) and is_initial(m.tokens[0])
    if len(toks) == 1:
        t = toks[0]
        if initials and not t.all_caps and not words.is_org_word(t.text):
            m.kind = PERSON  # "P. Simmons", "J. Adams"
        elif t.all_caps and len(t.text) <= 6:
            m.kind, m.guessed = ORGANIZATION, True  # an acronym, most likely
        elif m.next_word in SPEECH_VERBS:
            m.kind = PERSON  # "Kowalczyk said" (a company says too, but rarely alone)
        elif given_name(t.text) and not t.all_caps:
            m.kind, m.guessed = PERSON, True  # "Sonya" alone, or "Weibo", a given name too
        elif words.is_dictionary_word(t.text) or t.lower in lowercase:
            return False  # "Western", "Internet": capitalised words, not names
        elif has_digit(t):
            return False  # "Q3", "A350": periods and models
        elif m.prev_word in PLACE_PREPOSITIONS:
            m.kind, m.guessed = PLACE, True  # "in Tavildara", but also "invested in WeWork"
        elif _group_adjective(m):
            m.kind = OTHER
        else:
            m.kind, m.guessed = ORGANIZATION, True
    elif (
        len(toks) <= 3
        and not gazetteer.demonym_country(toks[0].text)
        and not any(known_place(toks[:k]) for k in range(1, len(toks)))  # "Los Angeles Lakers"
        and not any(
            words.is_dictionary_word(t.text) or t.all_caps or t.lower in CONNECTORS or has_digit(t) for t in toks
        )
    ):
        m.kind, m.guessed = PERSON, not initials  # "Cuno Tarfusser", "Geng Shuang"; not "Airbus A350"
    else:
        m.kind, m.guessed = ORGANIZATION, True
    m.name = _person_name(m) if m.kind == PERSON else m.surface
    return True


def _shouted_words(tokens: list[Token]) -> bool:
    """ALL-CAPS common words (a headline, a table's heads) that no list knows as a name."""
    content = [t for t in tokens if t.lower not in CONNECTORS]
    return bool(content) and all(
        t.all_caps and words.is_dictionary_word(t.text, 3.5) and not words.is_org_word(t.text) for t in content
    )


def _group_adjective(m: Mention) -> bool:
    """ "Kurdish rebels", "Islamic militants": a people's or a faith's adjective before
    a noun, shaped like a nationality word but of no country the gazetteer knows."""
    t = m.tokens[-1]
    nxt = m.after[0] if m.after else None
    return (
        t.lower.endswith(("ish", "ic", "ese", "ian", "ean"))
        and nxt is not None
        and nxt.kind == "word"
        and not nxt.capitalized
        and "NOUN" in words.word_classes(nxt.lower)
        and nxt.lower not in SPEECH_VERBS
    )


def _foreign_person(m: Mention, lowercase: set[str], language: str) -> bool:
    """Outside English, a person only by a full name that starts with a given name and
    has no word the article also writes in lowercase, nor one of the language's
    commonest words: "Roger Waters" and "Miguel Queiroz", not "Des Weiteren" or
    "Karena Islam" ("des", "karena" are words there)."""
    toks = m.tokens
    common = _common_words(language)
    return (
        m.kind == PERSON
        and 2 <= len(toks) <= 3
        and given_name(toks[0].text)
        and all(t.capitalized and not t.all_caps and t.lower not in lowercase and t.lower not in common for t in toks)
    )


@lru_cache(maxsize=32)
def _common_words(language: str) -> frozenset[str]:
    """The 500 commonest words of a language (wordfreq), its function words among them."""
    from wordfreq import top_n_list

    try:
        return frozenset(top_n_list(language, 500))
    except LookupError:  # a language wordfreq does not cover
        return frozenset()


def _vouched(m: Mention) -> bool:
    """Outside English only the alias table and the larger places of the gazetteer,
    under their own names, vouch for a name: a smaller city's name is too often a
    plain word there ("Länder"), and so is another language's spelling of a city
    ("Dabei", German for "in doing so", is also Dubai's)."""
    if aliases.lookup(m.surface) is not None:
        return True
    place = gazetteer.lookup(m.surface)
    return (
        m.kind == PLACE
        and place is not None
        and aliases.alias_key(place.name) == m.key
        and (place.country or place.population >= 10**6)
    )


def _person_name(m: Mention) -> str:
    """Full name without middle initials ("George W. Bush" -> "George Bush")."""
    kept = [t.text for t in m.tokens if not (len(t.text.rstrip(".")) == 1 and t.text[0].isupper())]
    return " ".join(kept) or m.surface


def _shouted_lines(body: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of the body's lines written in capitals ("RESULTS OF SOUTH KOREAN
    GAMES", a subhead, a table's heads): there, as in a Title Case headline, capitals
    prove nothing."""
    out, start = [], 0
    for i in range(1, len(body) + 1):
        if i == len(body) or body[i].gap_newline:
            line = body[start:i]
            wordish = [t for t in line if t.kind == "word"]
            if len(wordish) >= 3 and sum(t.all_caps for t in wordish) >= 0.8 * len(wordish):
                out.append((start, i))
            start = i
    return out


def _headline_matches(
    head: list[Token], found: list[Mention], *, start: int = 0, end: int | None = None, offset: int = 0
) -> list[Mention]:
    """Names in a Title Case Headline (or the capitals line `head[start:end]` of a
    body whose first token stands at `offset`): only word runs that are already known
    names of this article or of the alias table and gazetteer."""
    known = {m.key: m for m in found}
    out = []
    in_title = end is None
    wordtoks = [t for t in head[start:end] if t.is_word]
    i = 0
    while i < len(wordtoks):
        for n in (4, 3, 2, 1):
            part = wordtoks[i : i + n]
            if len(part) < n or function_word(part[0]) or function_word(part[-1]):
                continue
            surface = surface_of(part)
            key = aliases.alias_key(surface)
            first, last = part[0].index, part[-1].index
            m = Mention(
                surface,
                part,
                offset + first,
                in_title,
                before=tuple(head[max(start, first - 2) : first]),
                after=tuple(head[last + 1 : min(last + 3, len(head) if end is None else end)]),
            )
            if key in known:
                m.kind, m.name, m.guessed = known[key].kind, known[key].name, known[key].guessed
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
        e.guessed = e.guessed and m.guessed
        if m.surface not in e.surfaces:
            e.surfaces.append(m.surface)
    return list(groups.values())


def salience(e: Entity, n_tokens: int) -> float:
    """How central an entity is to the article: mentions (with diminishing returns),
    headline presence, and an early first mention."""
    early = 1.0 - min(1.0, e.first_position / max(1, n_tokens))
    return math.log1p(e.weight) + 0.7 * e.in_title + 0.4 * early
