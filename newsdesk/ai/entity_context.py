"""What the rest of the article says about a name whose kind the rules only guessed.

A name's own letters often cannot tell a person from a company ("Tiger Woods") or a
town from a firm ("Tavildara"), but the article around its mentions usually can, and
one telling mention settles them all:

* a person has a title ("coach Hoddle");
* a company has a brand's capitals ("WeWork") or what only companies have ("Uber
  shares", "a WeWork spokesperson");
* a place is somewhere things happen ("in Tavildara", "the town of Bistrita"), sits
  in a larger one ("Tavildara, Tajikistan"), has an airport or a region ("the
  Batajnica airport"), or heads a dateline ("MONTE CARLO 1996-08-30");
* a name listed with people is a person ("Mike Hulbert, Brian Henninger, Tiger
  Woods, Steve Jurgenson");
* a town or county with a score after it ("Pohang 3 Ulsan 2", "Kent 108-3") or after
  "v" is the club named after it. National sides stay their country: readers follow
  Japan, not "the Japanese football association".
"""

from __future__ import annotations

import re

from newsdesk.ai import gazetteer, words
from newsdesk.ai.aliases import alias_key
from newsdesk.ai.mentions import ORGANIZATION, PERSON, PLACE, Mention
from newsdesk.ai.tokens import Token

PLACE_CUES = frozenset(["in", "near", "outside", "inside"])
# "the town of X", "X airport": nouns that make the name beside them a place.
PLACE_NOUNS = gazetteer.PLACE_WORDS | frozenset(["capital", "port", "suburb", "municipality", "airport", "area"])
VERSUS = frozenset(["v", "vs", "versus"])
# Nouns that follow only an organisation's name: "Uber shares", "WeWork spokesperson".
COMPANY_NOUNS = frozenset(
    "spokesperson spokesman spokeswoman shares stock shareholders investors ceo chairman founder co-founder "
    "employees staff executives subsidiary headquarters app platform products customers users".split()
)
_DATE = re.compile(r"\d{4}(?:[-/.]\d{1,2})*$")  # a year or a dateline date, not a score
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


def apply_context(mentions: list[Mention]) -> list[Mention]:
    """Settle guessed kinds, and make clubs of places that play, for every mention of
    the same name at once. A lone given name that nothing shows to be a person
    ("Weibo", "on Weibo") is dropped: news introduces people by their full name."""
    groups: dict[str, list[Mention]] = {}
    for m in mentions:
        groups.setdefault(alias_key(m.name or m.surface), []).append(m)
    _follow_lists(mentions)
    dropped: set[int] = set()
    for group in groups.values():
        if all(m.guessed for m in group):
            kind = _evidence(group)
            if kind is not None:
                for m in group:
                    m.kind, m.guessed = kind, False
            elif all(m.kind == PERSON and len(m.tokens) == 1 for m in group):
                dropped.update(id(m) for m in group)
            continue
        settled = [m.kind or ORGANIZATION for m in group if not m.guessed]
        for m in group:
            if m.guessed:  # one name, one kind: the settled mentions decide
                m.kind, m.guessed = max(sorted(set(settled)), key=settled.count), False
        if any(m.kind == PLACE and not m.demonym for m in group) and _plays(group):
            for m in group:
                if m.kind == PLACE and not _dateline(m):
                    m.kind = ORGANIZATION
    return [m for m in mentions if id(m) not in dropped]


def _follow_lists(mentions: list[Mention]) -> None:
    """Guessed names in a list of people ("Mike Hulbert, Brian Henninger, Tiger Woods and
    Steve Stricker": names joined by a comma or "and" alone, two or more of them people
    named in full) are people too. Lists of places and companies mix ("England, Real
    Madrid and Inter Milan"), and a pair is often no list ("Westbrook, Lakers great"),
    so only longer lists of people spread."""
    ordered = sorted(mentions, key=lambda m: (not m.in_title, m.tokens[0].index))
    lists: list[list[Mention]] = []
    for a, b in zip(ordered, ordered[1:]):
        joined = (
            a.in_title == b.in_title
            and b.tokens[0].index == a.tokens[-1].index + 2
            and bool(a.after)
            and (a.after[0].text in (",", ";") or a.after[0].lower in ("and", "&"))
        )
        if joined and lists and lists[-1][-1] is a:
            lists[-1].append(b)
        elif joined:
            lists.append([a, b])
    for members in lists:
        if len(members) >= 3 and sum(_full_person(m) for m in members) >= 2:
            for m in members:
                if m.guessed and _name_shaped(m) and not _company(m) and not _modifies(m):
                    m.kind, m.guessed = PERSON, False


def _modifies(m: Mention) -> bool:
    """ "Lakers great Magic Johnson": a name before a lowercase word describes it."""
    nxt = m.after[0] if m.after else None
    return nxt is not None and nxt.kind == "word" and not nxt.capitalized and nxt.lower not in ("and", "or")


def _full_person(m: Mention) -> bool:
    """A settled person named in full ("Brian Henninger"), not one word that "said"."""
    return not m.guessed and m.kind == PERSON and (len(m.tokens) > 1 or m.name != m.surface)


def _evidence(group: list[Mention]) -> str | None:
    """The kind the article shows, strongest cue first. A company's own words ("WeWork
    spokesperson", a camel-cased brand) outweigh "in WeWork"; a full name that looks like
    a person's stays one whatever "in" stands before it ("in James' hands")."""
    if all(_name_shaped(m) for m in group) and any(_titled(m) for m in group):
        return PERSON
    if any(_company(m) for m in group):
        return ORGANIZATION
    person_shaped = any(m.kind == PERSON and len(m.tokens) > 1 for m in group)
    if any((_in_it(m) and not person_shaped) or _in_place(m) or _place_noun(m) or _dateline(m) for m in group):
        return PLACE
    return None


def _company(m: Mention) -> bool:
    """ "WeWork", "SoftBank" (capitals inside a word), or "Uber's founder", "Uber shares":
    a brand, or a noun only organisations have after it."""
    t = m.tokens[-1]
    if len(m.tokens) == 1 and not t.all_caps and any(c.isupper() for c in t.text[1:]) and "-" not in t.text:
        return True
    nxt = m.after[0] if m.after else None
    return nxt is not None and nxt.kind == "word" and not nxt.capitalized and nxt.lower in COMPANY_NOUNS


def _in_it(m: Mention) -> bool:
    """ "in Tavildara", but not "in MacBook keyboards", where the name modifies a noun,
    nor "in James' hands"."""
    if m.prev_word not in PLACE_CUES or m.tokens[-1].possessive or m.tokens[-1].all_caps:
        return False
    if m.after and m.after[0].text in ("'", "’"):
        return False
    nxt = m.after[0] if m.after else None
    return nxt is None or not (nxt.kind == "word" and not nxt.capitalized and "NOUN" in words.word_classes(nxt.lower))


def _place_noun(m: Mention) -> bool:
    """ "the town of Bistrita", "the Batajnica airport"."""
    before, after = m.before, m.after
    if len(before) == 2 and before[1].lower == "of" and before[0].lower in PLACE_NOUNS:
        return True  # "the town of Bistrita"
    return bool(after) and after[0].kind == "word" and not after[0].capitalized and after[0].lower in PLACE_NOUNS


def _dateline(m: Mention) -> bool:
    """ "MONTE CARLO 1996-08-30", "NICE, France 1996-08-30": where the story was filed."""
    after = m.after
    return bool(after) and after[0].kind == "num" and bool(_FULL_DATE.match(after[0].text))


def _name_shaped(m: Mention) -> bool:
    """Could be a person's name: offices speak too ("the Western District of New York
    announced"), but their names run longer or hold "of" or capitals."""
    return len(m.tokens) <= 3 and not any(
        t.all_caps or not t.capitalized or words.is_org_word(t.text) or t.lower in gazetteer.PLACE_WORDS
        for t in m.tokens
    )


def _titled(m: Mention) -> bool:
    """ "coach Hoddle": a title before the name. Not "Woods said" (companies say too)
    nor "Lakers, who" (teams are "who" too)."""
    return bool(m.before) and m.before[-1].is_word and words.is_title(m.before[-1].lower)


def _in_place(m: Mention) -> bool:
    """ "Tavildara, Tajikistan": a name followed by a comma and a country or state."""
    after = m.after
    if len(after) < 2 or after[0].text != "," or not after[1].is_word:
        return False
    place = gazetteer.lookup(after[1].text)
    return place is not None and (place.country or place.population >= 10**6)


def _plays(group: list[Mention]) -> bool:
    """A town or county (not a country) that scores or meets another "v" it."""
    for m in group:
        place = gazetteer.lookup(m.surface)
        if place is not None and place.country:
            return False
    return any(
        _score_follows(m.after)
        or (m.before and m.before[-1].lower in VERSUS)
        or (m.after and m.after[0].lower in VERSUS)
        for m in group
    )


def _score_follows(after: tuple[Token, ...]) -> bool:
    """A number after the name, then nothing, punctuation, another number, "and" or
    another name: "Somerset 83 and 174", "Pohang 3 Ulsan 2", "BOSTON 69 65 .515"; but
    not "Moscow 10 people" or a dateline's date."""
    if not after or after[0].kind != "num" or _DATE.match(after[0].text):
        return False
    if len(after) < 2:
        return True
    nxt = after[1]
    return nxt.kind in ("punct", "num") or nxt.lower == "and" or nxt.capitalized


def join_name_variants(mentions: list[Mention]) -> None:
    """One person however the article shortens the given name: "Pat Carlineo" and
    "Patrick Carlineo" both become "Patrick Carlineo" when the surnames agree and one
    given name begins the other (at least three letters: "Al Gore" is not "Alan Gore")."""
    names = {m.name for m in mentions if m.kind == PERSON and m.name and len(m.name.split()) >= 2}
    by_surname: dict[str, list[str]] = {}
    for name in names:
        by_surname.setdefault(alias_key(name.split()[-1]), []).append(name)
    canonical: dict[str, str] = {}
    for variants in by_surname.values():
        for name in variants:
            first = alias_key(name.split()[0])
            longer = [
                other
                for other in variants
                if other != name and len(first) >= 3 and alias_key(other.split()[0]).startswith(first)
            ]
            if longer:
                canonical[name] = max(longer, key=lambda n: (len(n.split()[0]), n))
    for m in mentions:
        if m.name in canonical:
            m.name = canonical[m.name]
