"""Article metadata from what the page declares about itself.

Publishers describe their articles for search engines and social networks (JSON-LD,
OpenGraph, Twitter cards, Dublin Core, <link rel=canonical>); those declarations are
far more reliable than guessing from visible text, and reading them is one cheap pass
over <head>. Only the publication date falls back to htmldate's search of the page.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil import parser as dateparser
from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement

from newsdesk import links
from newsdesk.dates import plausible

from .choose import fuller_title
from .escapes import unescape_once

_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "techarticle",
    "scholarlyarticle",
    "socialmediaposting",
    "liveblogposting",
    "report",
    "posting",
}
_SPACES = re.compile(r"\s+")
_BY_PREFIX = re.compile(r"^(?:by|from|written by|posted by|von|par|por|di|от)\s*:?\s+", re.IGNORECASE)
_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_].*)?$")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")
MAX_BYLINE = 200
# Section labels longer than this are not section names (some CMSs put keyword lists there).
MAX_SECTION_LABEL = 100
MAX_SECTION_LABELS = 10
# Zone abbreviations common in English-language news pages, in hours from UTC.
_ZONES = {
    name: offset * 3600
    for name, offset in {
        "UTC": 0,
        "GMT": 0,
        "Z": 0,
        "BST": 1,
        "CET": 1,
        "CEST": 2,
        "EET": 2,
        "EEST": 3,
        "EST": -5,
        "EDT": -4,
        "CST": -6,
        "CDT": -5,
        "MST": -7,
        "MDT": -6,
        "PST": -8,
        "PDT": -7,
        "AEST": 10,
        "AEDT": 11,
        "JST": 9,
        "KST": 9,
    }.items()
}


@dataclass
class PageMetadata:
    title: str | None = None
    title_variants: tuple[str, ...] = ()
    byline: str | None = None
    published: datetime | None = None
    published_guessed: bool = False  # found by searching the page's text, not declared
    modified: datetime | None = None
    language: str | None = None
    lead_image: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    description: str | None = None
    sections: tuple[str, ...] = ()


def canonical_url(url: str, base: str | None = None) -> str | None:
    """links.canonical_url, with a malformed URL (an unclosed IPv6 bracket, say) read as none."""
    try:
        return links.canonical_url(url, base=base)
    except ValueError:
        return None


def absolute_url(url: str | None, base: str) -> str | None:
    try:
        return links.absolute_url(url, base)
    except ValueError:
        return None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = _SPACES.sub(" ", value).strip()
    return value or None


def _meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    """All <meta> declarations keyed by lower-cased property/name/itemprop."""
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        content = _clean(meta.get("content"))
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _json_ld_objects(tree: HtmlElement) -> Iterator[dict]:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(reversed(graph))


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _article_json_ld(tree: HtmlElement) -> dict:
    """The page's article object (or its WebPage when no article is declared)."""
    page: dict = {}
    for obj in _json_ld_objects(tree):
        kinds = _types(obj)
        if kinds & _ARTICLE_TYPES:
            return obj
        if not page and "webpage" in kinds:
            page = obj
    return page


def _names(value: Any) -> list[str]:
    """Person names from a JSON-LD author value (string, object or list of them)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return _names(name) if name else []
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _url_of(value: Any) -> str | None:
    """An image URL from a JSON-LD image value (string, ImageObject or list)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _url_of(value.get("url") or value.get("contentUrl"))
    if isinstance(value, list) and value:
        return _url_of(value[0])
    return None


def join_names(names: list[str]) -> str | None:
    """'A', 'A and B', 'A, B and C': how bylines are shown."""
    seen: list[str] = []
    for raw in names:
        name = _clean(_BY_PREFIX.sub("", raw.strip()))
        if name and not name.startswith(("http://", "https://")) and name not in seen:
            seen.append(name)
    if not seen:
        return None
    text = seen[0] if len(seen) == 1 else ", ".join(seen[:-1]) + " and " + seen[-1]
    return text[:MAX_BYLINE]


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware datetime (UTC when the value gives no zone), or None.

    None also when the value cannot be a publication time (`newsdesk.dates.plausible`):
    pages carry year-1 placeholders and far-future "expires" dates in date fields.
    """
    value = _clean(value)
    if not value or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unknown zone names: plausible() takes UTC
                moment = dateparser.parse(value, tzinfos=_ZONES)
        except (ValueError, OverflowError, TypeError, dateparser.ParserError):
            return None
    return plausible(moment)


def _text(value: str | None) -> str | None:
    """Metadata text as readers see it: see escapes.py for publishers' double escaping."""
    return unescape_once(value) if value else value


def _first(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else None
        value = _clean(value)
        if value:
            return value
    return None


def _first_date(*values: Any) -> datetime | None:
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            moment = parse_datetime(item)
            if moment is not None:
                return moment
    return None


def _page_title(tree: HtmlElement) -> str | None:
    title = tree.find(".//title")
    return _clean(title.text_content()) if title is not None else None


def _h1(tree: HtmlElement) -> str | None:
    h1 = tree.find(".//h1")
    return _clean(h1.text_content()) if h1 is not None else None


def _strip_site_suffix(title: str) -> str:
    """'Headline | Site' -> 'Headline': the longest part is the headline."""
    parts = _TITLE_SEPARATORS.split(title)
    return max(parts, key=len) if len(parts) > 1 else title


def _language(tree: HtmlElement, meta: dict[str, list[str]], ld: dict) -> str | None:
    root = tree.getroottree().getroot()
    for value in (
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        _first(meta.get("content-language")),
        _first(meta.get("og:locale")),
        ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None,
    ):
        match = _LANG.match((value or "").strip())
        if match:
            return match.group(1).lower()
    return None


def _canonical(tree: HtmlElement, meta: dict[str, list[str]], url: str | None) -> str | None:
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            found = canonical_url(link.get("href"), base=url)
            if found:
                return found
    og_url = _first(meta.get("og:url"))
    return canonical_url(og_url, base=url) if og_url else None


def _image(tree: HtmlElement, meta: dict[str, list[str]], ld: dict, base: str | None) -> str | None:
    candidates = [
        _first(meta.get("og:image:secure_url")),
        _first(meta.get("og:image")),
        _first(meta.get("og:image:url")),
        _first(meta.get("twitter:image")),
        _first(meta.get("twitter:image:src")),
        _url_of(ld.get("image")),
        _url_of(ld.get("thumbnailUrl")),
    ]
    candidates.extend(link.get("href") for link in tree.iter("link") if (link.get("rel") or "").lower() == "image_src")
    for candidate in candidates:
        if not candidate:
            continue
        found = (
            absolute_url(candidate, base)
            if base
            else (candidate if candidate.startswith(("http://", "https://")) else None)
        )
        if found:
            return found
    return None


_BYLINE_ELEMENTS = XPath(
    "//*[@rel='author' or @itemprop='author' or @class='byline' or @class='author']"
    "[string-length(normalize-space(.)) < 100]"
)
_COMMENTS = re.compile(r"comment|disqus|reply|\brespond\b", re.IGNORECASE)


def _byline(tree: HtmlElement, meta: dict[str, list[str]], ld: dict) -> str | None:
    names = _names(ld.get("author")) or _names(ld.get("creator"))
    if names:
        return join_names(names)
    for key in (
        "author",
        "article:author",
        "dc.creator",
        "dcterms.creator",
        "parsely-author",
        "sailthru.author",
        "byl",
    ):
        values = [v for v in meta.get(key, []) if not v.startswith(("http://", "https://"))]
        if values:
            return join_names(values)
    # a visible byline marked up as such (the first outside reader comments)
    for elem in _BYLINE_ELEMENTS(tree):
        if any(_COMMENTS.search(f"{a.get('class', '')} {a.get('id', '')}") for a in elem.iterancestors()):
            continue
        marked = [_clean(name.text_content()) for name in elem.xpath(".//*[@itemprop='name']")]
        return join_names([n for n in marked if n] or [elem.text_content()])
    return None


def _date_fallback(tree: HtmlElement, url: str | None) -> datetime | None:
    try:
        found = find_date(tree, url=url, extensive_search=False, original_date=True)
    except Exception:  # htmldate has many code paths over hostile markup
        return None
    return parse_datetime(found) if found else None


def _site_name(*values: Any) -> str | None:
    """The publisher's name; some pages put their home-page URL there instead."""
    name = _first(*values)
    return None if name is None or name.startswith(("http://", "https://")) else name


def extract_metadata(tree: HtmlElement, url: str | None) -> PageMetadata:
    """Read the page's declared metadata; `url` is where the page was fetched from."""
    meta = _meta_tags(tree)
    ld = _article_json_ld(tree)
    canonical = _canonical(tree, meta, url)
    base = url or canonical

    page_title, h1 = _text(_page_title(tree)), _text(_h1(tree))
    headline, social = _text(_first(ld.get("headline"))), _text(_first(meta.get("twitter:title")))
    stripped = _strip_site_suffix(page_title) if page_title else None
    title = _text(_first(meta.get("og:title"))) or headline or social or h1 or stripped
    # A social card's headline may be cut ("...") where the page's own is whole.
    title = fuller_title(title, [headline, h1, social, stripped])
    variants = tuple(v for v in {title, page_title, h1, headline} if v)

    publisher = ld.get("publisher")
    published = _first_date(
        ld.get("datePublished"),
        ld.get("dateCreated"),
        meta.get("article:published_time"),
        meta.get("og:published_time"),
        meta.get("datepublished"),
        meta.get("date"),
        meta.get("pubdate"),
        meta.get("publishdate"),
        meta.get("dc.date"),
        meta.get("dc.date.issued"),
        meta.get("dcterms.created"),
        meta.get("parsely-pub-date"),
        meta.get("sailthru.date"),
        meta.get("citation_publication_date"),
    )
    guessed = published is None
    if published is None:
        published = _date_fallback(tree, url)
    modified = _first_date(
        ld.get("dateModified"),
        meta.get("article:modified_time"),
        meta.get("og:updated_time"),
        meta.get("datemodified"),
        meta.get("dcterms.modified"),
        meta.get("last-modified"),
    )
    return PageMetadata(
        title=title,
        title_variants=variants,
        byline=_text(_byline(tree, meta, ld)),
        published=published,
        published_guessed=guessed and published is not None,
        modified=modified,
        language=_language(tree, meta, ld),
        lead_image=_image(tree, meta, ld, base),
        canonical_url=canonical,
        site_name=_text(
            _site_name(
                meta.get("og:site_name"),
                publisher.get("name") if isinstance(publisher, dict) else None,
                meta.get("application-name"),
            )
        ),
        description=_text(
            _first(
                meta.get("description"),
                meta.get("og:description"),
                meta.get("twitter:description"),
                ld.get("description"),
            )
        ),
        # A page typed OpinionNewsArticle is filed as opinion whatever its section says.
        sections=_sections(
            meta.get("article:section"),
            ld.get("articleSection"),
            "Opinion" if "opinionnewsarticle" in _types(ld) else None,
        ),
    )


def _sections(*values: Any) -> tuple[str, ...]:
    """The publisher's section labels for the page (a meta tag may repeat, and JSON-LD's
    articleSection may be a list), in order, each once."""
    found: list[str] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            label = _text(_clean(item))
            if label and len(label) <= MAX_SECTION_LABEL and label not in found:
                found.append(label)
    return tuple(found[:MAX_SECTION_LABELS])
