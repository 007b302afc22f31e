"""Paragraph-level cleanup of the extracted body.

The main-text extractor works on the DOM and keeps any block that reads like prose
inside the chosen container. What remains at that point is chrome that only its words
or its links give away: the headline and deck repeated above the text, "Related:" and
"Read more:" teasers, newsletter and subscription pitches, contact lines, credits,
copyright notices, comment counters, lists of links, and a "You may also like" tail.
Each rule here names a kind of page chrome found on news sites in general, in the few
languages we see most; none is keyed to a site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from .render import body_paragraphs

_WORD = re.compile(r"\w+")

# A block consisting only of one of these labels starts a tail of recommendations or
# reader interaction; it never belongs to the article.
_SECTION_LABELS = re.compile(
    r"""^(?:
        related(?:\ (?:articles?|posts?|stories|content|news|coverage|links|reading|videos?))?
      | more\ (?:stories|articles|news|on\ this(?:\ story|\ topic)?|from\ .{1,40}|like\ this)
      | (?:you|we\ think\ you)\ (?:may|might|will|could)\ (?:also\ )?
        (?:like|enjoy|be\ interested\ in)
      | recommended(?:\ (?:for\ you|stories|articles|reading))?
      | (?:most\ (?:popular|read|viewed|shared)|trending(?:\ now)?|popular(?:\ now|\ stories)?)
      | (?:editor'?s?\ )?picks?
      | don'?t\ miss | must\ read | read\ next | up\ next | what\ to\ read\ next
      | (?:latest|top)\ (?:news|stories|articles)
      | (?:\d+\ )?comments?(?:\ \(\d+\))? | no\ comments(?:\ yet)?\.*
      | (?:leave|post|add|write)\ a\ (?:comment|reply) | join\ the\ (?:discussion|conversation)
      | show\ comments | view\ comments
      | tell\ us\ what\ you\ think\.* | what\ do\ you\ think\??
      | hashtags | tags | topics | filed\ under | categories
      | share(?:\ (?:this|this\ (?:article|story|post)|on))? | share\ (?:via|with).*
      | try\ our\ ai\ features | explore\ what\ .{1,40}\ can\ do\ for\ you:?
      | explore\ further | further\ reading | see\ also | also\ read | read\ also | read\ more
      | advertisement | sponsored(?:\ content)? | promoted(?:\ stories)?
      | (?:[\w'’]+\ ){0,4}newsletters?(?:\ [\w'’]+){0,3} | sign\ up\b.{0,50} | subscribe\b.{0,50}
      | leggi\ anche | potrebbe\ interessarti | articoli\ correlati
      | veja\ tamb[eé]m | leia\ tamb[eé]m | not[ií]cias\ relacionadas | mat[eé]rias\ relacionadas
      | art[ií]culos\ relacionados | te\ puede\ interesar | lee\ tambi[eé]n
      | lesen\ sie\ auch | mehr\ zum\ thema | das\ k[oö]nnte\ sie\ auch\ interessieren | kommentare
      | (?:[aà]\ )?lire\ aussi | sur\ le\ m[eê]me\ sujet | commentaires
      | читайте\ также | похожие\ (?:статьи|новости|записи) | комментарии
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)

# Lines that are chrome wherever they appear, when the block is short.
_CHROME_LINES = re.compile(
    r"""^(?:
        (?:related|read\ more|read\ also|also\ read|see\ more|see\ also|more|watch|listen|
           don'?t\ miss|must\ read|recommended|leggi\ anche|leia\ tamb[eé]m|veja\ tamb[eé]m|
           lee\ tambi[eé]n|lesen\ sie\ auch|lire\ aussi|читайте\ также)\W{0,3}\s*:
      | \(?(?:additional\ )?(?:reporting|writing|editing)\ by\b
      | contributing:
      | .{0,120}\bcontributed\ (?:to\ )?this\ (?:report|story|article)
      | (?:source|sources|credit|credits|photo|photos|image|images|picture|pictures|video)\s*:
      | (?:photo|image|picture|photograph)s?\ (?:by|credit|courtesy|copyright|caption|source)\b
      | photograph\s*:
      | .{0,400}\((?:AP|AFP|EPA|Reuters|Getty|Xinhua|Bloomberg|dpa)\s*
        (?:Photo|Images|Pictures)\b[^)]{0,80}\)$
      | click\ to\ (?:share|email|print|tweet)\b | (?:please\ )?enable\ javascript\b | loading\W*$
      | your\ browser\ does\ not\ support\b
      | (?:already\ a\ subscriber|log\ ?in\ to|sign\ in\ to|create\ (?:an|a\ free)\ account)\b
      | comments\ are\ closed\b | be\ the\ first\ to\ comment\b | you\ must\ be\ logged\ in\b
      | leave\ a\ (?:reply|comment)\b
      | (?:\d+|an?|one)\ (?:second|minute|hour|day|week|month|year)s?\ ago$
      | (?:copyright\s*)?(?:©|\(c\)|ⓒ)
      | copyright\s+(?:by\b|(?:[\w&.,-]+\s+){0,4}(?:19|20)\d\d\b[^.]{0,60}$)
      | .{0,80}\ball\ rights\ reserved\b
      | filed\ under\b | posted\ in\s*: | tags?\s*: | categor(?:y|ies)\s*:
      | (?:last\ )?(?:updated|published|posted)(?:\ on|\ at)?\s*:?\s*(?=[^\d]{0,20}\d)
        (?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)
        [\w\ ,.:/+-]{2,40}$
      | (?:reading\ time|tempo\ de\ leitura|tiempo\ de\ lectura|lesezeit|temps\ de\ lecture)\b
      | \d+\s*(?:min|minute)s?\ read\b
      | (?:click|tap)\ here\b
      | (?:sign\ up|subscribe|register)\b.{0,140}$
      | get\ (?:the|our)\ .{0,60}(?:newsletter|inbox|app)\b
      | follow\ (?:us|me|@\w+|[\w.@ ]{1,60}?\ on\ (?:twitter|facebook|instagram|x|linkedin))\b
      | (?:email|e-mail|contact|reach|write\ to)\b.{0,80}(?:@|\btwitter\b|\bfacebook\b)
      | have\ a\ (?:news\ )?tip\b
      | like\ this\ (?:story|article)\b | share\ this\b | share\ (?:on|via)\b
      | if\ you\ (?:enjoyed|liked|value)\ this\b
      | (?:an\ )?error\ (?:has\ )?occurred\b
      | thanks?\ (?:you\ )?for\ (?:signing\ up|subscribing|reading)\b
      | this\ (?:article|story)\ (?:has\ been|was)\ sent\b
      | this\ copy\ is\ for\ your\ personal\b
      | (?:we\ use|this\ (?:site|website)\ uses)\ cookies\b
      | (?:staff|wire)\ reports?$ | with\ (?:\w+\ )?wires?$
      | [\w.+-]+@[\w-]+\.[\w.]+$
      | (?:https?://|www\.)\S+$ | (?:twitter|facebook|instagram)\.com/\S+$ | @\w+$
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# "By Jane Doe", "By JANE DOE and JOHN ROE": a byline repeated in the body. Names are
# capitalised, which tells them from prose such as "By then it was too late."
_BYLINE = re.compile(
    r"^(?:[Bb]y|BY|[Ww]ritten by|[Ww]ords by)\s+"
    r"(?:[A-Z][\w.'’-]*\s*){1,4}(?:(?:,|&|and|AND)\s*(?:[A-Z][\w.'’-]*\s*){1,4})*"
    r"(?:[,|-]\s*[\w .,'’-]{0,40})?$"
)

SHORT_BLOCK_WORDS = 40
WEAK_BLOCK_WORDS = 15
LINK_LIST_SHARE = 0.9  # a list this much made of link text is navigation
TEASER_LIST_SHARE = 0.3  # headline links with a line of text each: teaser cards


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _link_share(elem: etree._Element, text: str) -> float:
    """Share of the block's characters that sit inside links."""
    if not text:
        return 0.0
    linked = sum(len("".join(ref.itertext()).strip()) for ref in elem.iter("ref"))
    return min(1.0, linked / len(text))


def _is_title(text: str, titles: list[str]) -> bool:
    """Whether a block repeats the headline (exactly, or nearly: site name appended)."""
    norm = _norm(text)
    if not norm:
        return False
    for title in titles:
        if norm == title:
            return True
        shorter, longer = sorted((norm, title), key=len)
        if len(shorter) > 20 and shorter in longer and len(shorter) >= 0.7 * len(longer):
            return True
    return False


def _is_section_label(text: str) -> bool:
    return len(text) <= 60 and bool(_SECTION_LABELS.match(text.strip()))


def _is_chrome_line(text: str, words: int) -> bool:
    if words > SHORT_BLOCK_WORDS:
        return False
    text = text.strip()
    return bool(_CHROME_LINES.match(text) or (words <= 12 and _BYLINE.match(text)))


def _is_weak(elem: etree._Element, text: str, words: int) -> bool:
    """A block that cannot be article prose: a list, a heading, a short or linked line."""
    return elem.tag in ("list", "head", "table") or words < WEAK_BLOCK_WORDS or _link_share(elem, text) > 0.5


def filter_body(body: etree._Element, titles: Iterable[str] = ()) -> list[str]:
    """Drop chrome blocks from trafilatura's body element, in place; return the
    paragraphs of what is left (the same as render.body_paragraphs(body))."""
    per_block = [body_paragraphs(elem) for elem in body]
    texts = [" ".join(paras) for paras in per_block]
    blocks = [(elem, text, _words(text)) for elem, text in zip(body, texts, strict=True)]
    drop: set[int] = set()
    title_norm = [norm for norm in map(_norm, titles) if norm]

    # The headline and any deck/standfirst headings above the first paragraph.
    for i, (elem, text, _) in enumerate(blocks):
        if elem.tag == "head" or _is_title(text, title_norm) or not text:
            drop.add(i)
            continue
        break

    # A recommendations / comments label: drop it, and the rest when nothing after it
    # reads like article prose.
    for i, (_, text, _) in enumerate(blocks):
        if i in drop or not _is_section_label(text):
            continue
        drop.add(i)
        rest = range(i + 1, len(blocks))
        if all(_is_weak(*blocks[j]) for j in rest):
            drop.update(rest)
            break

    for i, (elem, text, words) in enumerate(blocks):
        if i in drop:
            continue
        if _is_chrome_line(text, words) or _is_title(text, title_norm) and elem.tag == "head":
            drop.add(i)
        elif words <= SHORT_BLOCK_WORDS and _link_share(elem, text) > 0.8 and elem.tag == "p":
            drop.add(i)
        elif elem.tag == "list" and len(elem) > 1 and _link_share(elem, text) > LINK_LIST_SHARE:
            drop.add(i)  # a list of links: more stories, not this one

    # The end of the body: headings with nothing under them and teaser lists.
    for i in range(len(blocks) - 1, -1, -1):
        elem, text, words = blocks[i]
        if i in drop or not text:
            drop.add(i)
        elif elem.tag == "head" or (elem.tag == "list" and _link_share(elem, text) > TEASER_LIST_SHARE):
            drop.add(i)
        else:
            break

    for i in sorted(drop, reverse=True):
        body.remove(blocks[i][0])
    loose = (body.text or "").strip() or any((elem.tail or "").strip() for elem in body)
    if loose:  # text outside the blocks: let the renderer place it
        return body_paragraphs(body)
    return [p for i, paras in enumerate(per_block) if i not in drop for p in paras]
