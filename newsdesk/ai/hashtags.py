"""Hashtags of an article: the people, places and organisations it names and the
topics it is about, each under one canonical name and slug across the whole site.

Entities come from `entities` (rules, gazetteers and the article's own evidence, chosen
by `newsdesk bench predict entities`), topics from the lowercase noun phrases that
`keyphrases` ranks high. A one-word name whose kind no evidence settled ("Saturn") is
tagged as a topic: a reader trusts no kind rather than a wrong one. A tag's slug is the site-wide key of its page:
it comes from the `known` mapping when an earlier article already established one of
the tag's names (so "Putin" alone joins "vladimir-putin"), otherwise from the
canonical name.

Outside English only names are tagged, and only those the alias table, the gazetteer
or a given name vouch for: capitals and function words work differently there. The
language is the text's own (`language.article_language`), not only the page's
declaration, which is often a template's default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from newsdesk import language as languages
from newsdesk.ai import words
from newsdesk.ai.aliases import alias_key, slugify
from newsdesk.ai.entities import OTHER, Entity, find_entities, salience
from newsdesk.ai.keyphrases import Candidate, candidates, keyphrases

__all__ = ["VERSION", "Tag", "alias_key", "extract_tags", "keyphrases", "warm_up"]

# Bump when tags for the same text change (rules, weights, alias lists): stored
# enrichments made by another version are redone by `newsdesk reprocess`.
VERSION = "rules-2"

TOPIC = "topic"
TOPIC_DISCOUNT = 0.8  # a topic needs more mentions than a name to rank beside it
# Nouns whose plural is the topic itself: "peace talks", not "peace talk".
PLURAL_TOPICS = frozenset(
    [
        "talks",
        "sanctions",
        "negotiations",
        "news",
        "arms",
        "troops",
        "earnings",
        "savings",
        "goods",
        "politics",
        "economics",
        "athletics",
        "finances",
        "means",
        "species",
        "series",
        "headquarters",
        "clothes",
        "customs",
        "elections",
        "protests",
        "tariffs",
    ]
)


@dataclass(frozen=True)
class Tag:
    name: str  # canonical display form: "Vladimir Putin", "Kyiv", "prisoner swap"
    slug: str  # URL key, stable across articles: "vladimir-putin"
    kind: str  # "person" | "place" | "organization" | "topic"
    score: float  # relevance in the article, higher first
    mentions: int  # how often the article mentions it, all surface forms together
    aliases: tuple[str, ...] = ()  # the canonical name and every surface form seen


def warm_up() -> None:
    """Load the word lists and gazetteer now (about two seconds) rather than on the
    first article: call it once when a worker starts."""
    extract_tags("Warm up", "President Vladimir Putin met officials in Kiev on Monday.")


def extract_tags(
    title: str,
    text: str,
    *,
    language: str = "en",
    limit: int = 8,
    known: Mapping[str, str] | None = None,
) -> list[Tag]:
    """The article's hashtags, best first, at most `limit`.

    `known` maps `alias_key(surface)` to slugs already used on the site; a tag any of
    whose names is in it takes that slug.
    """
    if limit <= 0:
        return []
    title, text = title or "", text or ""
    language = languages.article_language(title, text, declared=language)
    entities = find_entities(title, text, language=language)
    cands, n_tokens = candidates(title, text)
    if language != "en":
        cands = []  # topics need English function words and frequencies
    n_tokens = max(n_tokens, 1)
    tags = [_entity_tag(e, n_tokens) for e in entities]
    topics = _topic_tags(cands, entities, n_tokens)
    # Only a shortlist meets `known` (often a database): merging can only shorten it.
    shortlist = _choose(tags + topics, 2 * limit)
    return _choose(_apply_known(shortlist, known or {}), limit)


def _entity_tag(e: Entity, n_tokens: int) -> Tag:
    surfaces = tuple(dict.fromkeys([e.name, *e.surfaces]))
    score = salience(e, n_tokens) + (0.3 if e.kind == "person" else 0.0)
    guessed = e.guessed and " " not in e.name and not e.name.isupper()  # acronyms are organisations
    kind = TOPIC if guessed or e.kind == OTHER else e.kind
    return Tag(e.name, slugify(e.name), kind, round(score, 3), e.mentions, surfaces)


def _topic_tags(cands: list[Candidate], entities: list[Entity], n_tokens: int) -> list[Tag]:
    """Lowercase noun phrases said at least twice; a phrase replaces its own head
    word ("peace talks" over "talks")."""
    entity_words = {w.lower() for e in entities for s in (e.name, *e.surfaces) for w in s.split()}
    chosen: dict[str, tuple[Candidate, float]] = {}
    for c in cands:
        if not _is_topic(c, entity_words):
            continue
        early = 1.0 - min(1.0, c.first / n_tokens)
        phrase = 0.5 * (len(c.words) > 1)
        score = math.log1p(c.count) + 0.7 * c.in_title + 0.4 * early + phrase - TOPIC_DISCOUNT
        chosen[_topic_name(c.words)] = (c, score)
    heads = {c.words[-1] for c, _ in chosen.values() if len(c.words) > 1}
    tags: list[Tag] = []
    accepted: list[tuple[str, ...]] = []
    for name, (c, score) in sorted(chosen.items(), key=lambda kv: -kv[1][1]):
        if len(c.words) == 1 and c.words[0] in heads:
            continue
        if any(_overlaps(c.words, other) for other in accepted):
            continue  # "misconduct investigation" after "sexual misconduct"
        accepted.append(c.words)
        tags.append(
            Tag(
                name,
                slugify(name),
                TOPIC,
                round(score, 3),
                c.count,
                tuple(dict.fromkeys([name, *(f.lower() for f in c.forms)])),
            )
        )
    return tags


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return bool(set(a) & set(b))


def _is_topic(c: Candidate, entity_words: set[str]) -> bool:
    if c.lowercase == 0 or c.capitalized > c.lowercase:
        return False  # names, or words only ever capitalised at a sentence start
    if not all(w.isalpha() for w in c.words) or any(w in entity_words for w in c.words):
        return False
    if any(words.is_calendar(w) or len(w) < 3 for w in c.words):
        return False
    if c.count < 2 or 2 * c.verbal >= c.count:
        return False  # said once, or mostly used as a verb ("to wait")
    head = c.words[-1]
    classes = words.word_classes(head)
    if "NOUN" not in classes or (head.endswith(("ing", "ed")) and "VERB" in classes):
        return False
    if words.is_title(words.singular(head)):
        return False  # "judges", "chief prosecutor": roles, not topics
    generic = words.is_generic_noun(words.singular(head)) or words.zipf(head) > 5.5
    if len(c.words) == 1 and generic:
        return False  # "officials", "time": about anything
    for w in c.words[:-1]:
        classes = words.word_classes(w)
        if not classes & {"NOUN", "ADJ"} or (classes == {"ADJ"} and words.zipf(w) >= 4.8):
            return False  # "rejects talks", "major talks"
    return True


def _topic_name(ws: tuple[str, ...]) -> str:
    head = ws[-1] if ws[-1] in PLURAL_TOPICS else words.singular(ws[-1])
    return " ".join((*ws[:-1], head))


def _apply_known(tags: list[Tag], known: Mapping[str, str]) -> list[Tag]:
    """Give each tag the site's slug for any of its names, then merge tags that now
    share a slug (an article's "Putin" and "Vladimir Putin" when the site knows both).

    A person named in full is looked up by full names only: "Jordan" of "Michael
    Jordan" must not take the slug the site gave the country."""
    merged: dict[str, Tag] = {}
    for tag in tags:
        slug, name = tag.slug, tag.name
        for surface in sorted(tag.aliases, key=lambda s: (s != tag.name, -len(s))):
            if tag.kind == "person" and len(surface.split()) < len(name.split()):
                continue
            hit = known.get(alias_key(surface))
            if hit:
                slug = hit
                break
        if slug != tag.slug and len(name.split()) < len(slug.split("-")) and tag.kind != TOPIC:
            name = " ".join(part.capitalize() for part in slug.split("-"))
        tag = Tag(name, slug, tag.kind, tag.score, tag.mentions, tag.aliases)
        other = merged.get(slug)
        if other is None:
            merged[slug] = tag
        else:
            first, second = (other, tag) if other.score >= tag.score else (tag, other)
            merged[slug] = Tag(
                max((first.name, second.name), key=len) if first.kind == "person" else first.name,
                slug,
                first.kind,
                round(first.score + 0.3 * second.score, 3),
                first.mentions + second.mentions,
                tuple(dict.fromkeys(first.aliases + second.aliases)),
            )
    return list(merged.values())


def _choose(tags: list[Tag], limit: int) -> list[Tag]:
    """Best first. Topics compete on score (discounted: readers follow names) for at
    most a third of the places, and the best topic always gets one: a page of nothing
    but names says who, not what."""
    tags = sorted(tags, key=lambda t: (-t.score, t.name))
    max_topics = max(1, limit // 3)
    picked: list[Tag] = []
    for tag in tags:
        if tag.kind == TOPIC and sum(t.kind == TOPIC for t in picked) >= max_topics:
            continue
        picked.append(tag)
    topics = [t for t in tags if t.kind == TOPIC]
    if limit and topics and all(t.kind != TOPIC for t in picked[:limit]):
        picked = picked[: limit - 1] + [topics[0]]
    if len(picked) < limit:  # few names: more topics rather than fewer tags
        picked += [t for t in tags if t not in picked]
    return sorted(picked[:limit], key=lambda t: (-t.score, t.name))
