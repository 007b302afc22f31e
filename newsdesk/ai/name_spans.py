"""Candidate names in an article's tokens: runs of capitalised words, cut where one
name ends and the next begins, and trimmed of what only looks like part of a name.

The entity rules (`entities`) then decide what each candidate is. What makes a run a
name, and where it ends, is here:

* capitalised words join, bridged by name particles ("van", "bin") and by "of" after
  an institution or a place ("Bank of Communications", "Gulf of Mexico");
* a title ("President"), a nationality before a full name ("American Dennis
  Mitchell"), a place glued to a name ("U.S. NAFLD") and an all-caps run inside a
  mixed-case one (a dateline) are cut off;
* a sentence-initial common word ("However", "Rival Lowe's"), calendar words and
  function words are trimmed; words capitalised only by their position ("Officials",
  "Ticker Security") are marked weak, and lines written in capitals are set aside.
"""

from __future__ import annotations

from collections.abc import Iterable

from newsdesk.ai import aliases, gazetteer, words
from newsdesk.ai.mentions import PERSON, PLACE, Mention
from newsdesk.ai.tokens import Token

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
COMPOUND_TAILS = frozenset(["made", "led", "run", "born", "based", "style", "like", "wide", "owned", "era", "old"])
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
        "inner",
        "outer",
    ]
)
# Last words of the names of events, contests and laws: "World Cup", "U.S. Open",
# "Venice Film Festival", "Trades Disputes Act". Neither organisations nor places.
EVENT_WORDS = frozenset(
    "cup open games olympics championship championships tournament series festival bowl masters "
    "marathon prix trophy classic derby award awards prize war act treaty accord accords".split()
)


def _is_name_token(t: Token) -> bool:
    if not (t.is_word and (t.capitalized or t.all_caps)):
        return False
    tail = t.text.rsplit("-", 1)[-1] if "-" in t.text else ""
    # "AIDS-related", "US-made", "Western-backed" describe, they do not name.
    return not (tail.islower() and (tail.endswith(("ed", "ing")) or tail in COMPOUND_TAILS))


def _raw_spans(tokens: list[Token]) -> Iterable[tuple[int, int]]:
    """Maximal runs of capitalised words, bridged by "of", "de", "van"...; a
    possessive or a capitalised function word ("The", "THE" in a table row) ends a run."""
    i, n = 0, len(tokens)
    while i < n:
        if not _is_name_token(tokens[i]):
            i += 1
            continue
        j = i + 1
        while j < n and not tokens[j - 1].possessive and not tokens[j].gap_newline:
            t = tokens[j]
            if t.text == "." and is_initial(tokens[j - 1]) and j + 1 < n and _is_name_token(tokens[j + 1]):
                j += 1  # "Richard P. Feynman"
            elif is_initial(t) and j + 2 < n and tokens[j + 1].text == "." and _is_name_token(tokens[j + 2]):
                j += 1  # "Sonya A. Zoghlin": "A" is no article here
            elif _is_name_token(t) and not function_word(t):
                j += 1
            elif _is_name_token(t) and _surname_slot(tokens, j):
                j += 1  # "Peter Such": a capitalised function word after a given name is a surname
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


def _surname_slot(tokens: list[Token], j: int) -> bool:
    """Whether tokens[j], capitalised mid-sentence, follows a given name or an initial
    ("Peter Such", "P. Such"), where even a function word is a surname."""
    t = tokens[j]
    if t.ambiguous or t.all_caps or not t.capitalized or j == 0:
        return False
    prev = tokens[j - 1]
    if prev.text == ".":
        return j >= 2 and is_initial(tokens[j - 2])
    return is_initial(prev) or (prev.is_word and words.is_first_name(prev.text))


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
        or known_place(list(tokens[start:j]))
    )  # "United States of America"


def has_digit(t: Token) -> bool:
    return any(c.isdigit() for c in t.text)


def given_name(word: str) -> bool:
    """A given name, hyphenated ones included ("Sui-Lee", "Jean-Pierre")."""
    if words.is_first_name(word):
        return True
    parts = word.split("-")
    return len(parts) > 1 and all(p[:1].isupper() for p in parts) and any(words.is_first_name(p) for p in parts)


def is_initial(t: Token) -> bool:
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


def candidate_mentions(tokens: list[Token], offset: int, *, in_title: bool) -> list[Mention]:
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
            if any(a.lower == b.lower for a, b in zip(part, part[1:])):
                continue  # "Change Change": a table's column heads, not a name
            if part:
                first, last = part[0].index, part[-1].index
                before = tokens[first - 1] if first else None
                after = tokens[last + 1] if last + 1 < len(tokens) else None
                out.append(
                    Mention(
                        surface_of(part),
                        part,
                        offset + first,
                        in_title,
                        person_cue=part_cue,
                        prev_word=before.lower if before is not None and before.is_word else None,
                        next_word=after.lower if after is not None and after.is_word else None,
                        weak=_weak(part),
                        before=tuple(tokens[max(0, first - 2) : first]),
                        after=tuple(tokens[last + 1 : last + 3]),
                    )
                )
    return out


def _weak(part: list[Token]) -> bool:
    """Common words capitalised only by their position: "Officials" at a sentence
    start, "Ticker Security" at the head of a table. Kept only if the article also
    writes them as a name elsewhere."""
    if not part[0].ambiguous or any(words.is_org_word(t.text) or is_initial(t) for t in part):
        return False  # "J. Adams" after a bracket is a name however common "adams" is
    if len(part) > 1 and words.is_first_name(part[0].text):
        return False  # "Peter Such", "Will Smith" at a sentence start
    return all(_plain_word(t, strict=True) for t in part) and (len(part) == 1 or not known_name(part))


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
    to a full name ("London Iannis Xenakis" in a listing); a nationality before a
    full name ("American Dennis Mitchell") is not part of it."""
    out = []
    for span, cue in parts:
        if (
            len(span) > 1
            and not cue
            and not known_name(span)
            and not any(words.is_org_word(t.text) or t.lower in CONNECTORS for t in span)
            and span[-1].lower not in EVENT_WORDS  # "U.S. Open"
            and span[0].lower not in DIRECTIONS
            and known_place(span[:1])
            and (
                not words.is_first_name(span[0].text)  # "Paris Hilton" stays
                or (len(span) > 2 and words.is_first_name(span[1].text))
            )
        ):
            out += [(span[:1], False), (span[1:], False)]
        elif (
            len(span) > 2
            and not known_name(span)
            and gazetteer.demonym_country(span[0].text)
            and words.is_first_name(span[1].text)
            and not any(words.is_org_word(t.text) for t in span)
        ):
            out += [(span[:1], False), (span[1:], cue)]  # "American Dennis Mitchell"
        else:
            out.append((span, cue))
    return out


def _looks_like_name(tokens: list[Token], *, honorific: bool) -> bool:
    if any(t.all_caps for t in tokens) or words.is_org_word(tokens[-1].text):
        return False
    entry = aliases.lookup(surface_of(tokens))
    if entry is not None:
        return entry.kind == PERSON
    if gazetteer.lookup(surface_of(tokens)) is not None:
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
        function_word(span[0])
        or words.is_calendar(span[0].lower)
        or span[0].lower in MODIFIERS
        or (len(span) > 1 and span[0].ambiguous and _leading_filler(span))
    ):
        span = span[1:]
    while span and (words.is_calendar(span[-1].lower) or function_word(span[-1])):
        if len(span) > 1 and function_word(span[-1]) and _surname_slot(span, len(span) - 1):
            break  # "Peter Such"
        span = span[:-1]
    return span


def _leading_filler(span: list[Token]) -> bool:
    """A sentence-initial word glued to a name by its capital: "Earlier Putin",
    "Senior Obama aide", "Rival Lowe's" lose it; "Security Council" and "Google Buzz"
    keep it."""
    first = span[0]
    if not _plain_word(first) or known_name(span) or known_name(span[:1]):
        return False
    classes = words.word_classes(first.lower)
    if len(span) == 2 and _glued_to_name(first, span[1]):
        return True
    return words.is_stopword(first.lower) or (bool(classes) and "NOUN" not in classes)


def _glued_to_name(first: Token, name: Token) -> bool:
    """ "Rival Lowe's", "Shares Tesla": a common word that only the sentence start
    capitalised, before a name no dictionary knows. Not "Mount Kenya", "General
    Motors" or "Tiger Woods", whose second word is a word too."""
    return (
        words.is_dictionary_word(first.text, 3.5)
        and not words.is_first_name(first.text)
        and not words.is_title(first.lower)
        and not words.is_org_word(first.text)
        and first.lower not in gazetteer.PLACE_PREFIXES
        and first.lower not in DIRECTIONS
        and not name.all_caps
        and not words.is_dictionary_word(name.text)
        and not words.is_org_word(name.text)
    )


def function_word(t: Token) -> bool:
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


def known_name(span: list[Token]) -> bool:
    surface = surface_of(span)
    return aliases.lookup(surface) is not None or gazetteer.lookup(surface) is not None


def known_place(span: list[Token]) -> bool:
    entry = aliases.lookup(surface_of(span))
    if entry is not None:
        return entry.kind == PLACE
    return gazetteer.lookup(surface_of(span)) is not None


def surface_of(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens)
