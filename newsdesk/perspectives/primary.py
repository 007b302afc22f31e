"""Primary sources of a story: the documents its articles link to (studies, court
filings, official statements and press releases, data sets, PDFs), each with the
publishers that link to it.

Recognised from the links of each article's stored (sanitised) body HTML by small named
lists of hosts, host suffixes and path words below: a link is a primary source when its
URL is a document, never when it points at a news publisher (the site's own sources or
NEWS_HOSTS), social media or the linking publisher's own site. URLs meet on one key
(courlan's canonical form, https, no "www.", no trailing slash; a DOI, arXiv or PubMed
id wherever it appears), so one document linked two ways counts once. Each article's
links are parsed once per content version and kept in the default cache (`content_hash`
moves when the body does), so a story page reads one small query and one `get_many`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from courlan import extract_domain
from django.core.cache import cache

from newsdesk.articles.models import Article
from newsdesk.links import canonical_url, host_of
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story

CACHE_SECONDS = 7 * 24 * 3600
RULES_VERSION = 1  # part of the cache key: bump when the parsing below changes
MAX_SOURCES = 50  # per story, most-linked first
LABEL_CHARS = 140

KINDS = {
    "study": "Study",
    "court": "Court document",
    "government": "Government",
    "press": "Press release",
    "data": "Data set",
    "document": "Document",
}
KIND_ORDER = list(KINDS)

# --- the named lists ----------------------------------------------------------------------
# A host matches an entry when it is the entry or ends with "." + entry.

STUDY_HOSTS = (
    "doi.org", "arxiv.org", "biorxiv.org", "medrxiv.org", "pubmed.ncbi.nlm.nih.gov", "ssrn.com",
    "thelancet.com", "nejm.org", "bmj.com", "jamanetwork.com", "pnas.org", "plos.org", "cell.com",
    "sciencedirect.com", "link.springer.com", "academic.oup.com", "onlinelibrary.wiley.com",
    "tandfonline.com", "frontiersin.org", "mdpi.com", "researchsquare.com", "osf.io",
)  # fmt: skip
DATA_HOSTS = (
    "data.gov", "data.gov.uk", "data.europa.eu", "data.gouv.fr", "govdata.de", "zenodo.org", "figshare.com",
    "datadryad.org", "dataverse.harvard.edu", "data.worldbank.org", "data.un.org", "ourworldindata.org",
    "data.census.gov", "opendata.cbs.nl",
)  # fmt: skip
COURT_HOSTS = (
    "courtlistener.com", "supremecourt.gov", "uscourts.gov", "supremecourt.uk", "judiciary.uk", "bailii.org",
    "curia.europa.eu", "echr.coe.int", "icj-cij.org", "icc-cpi.int", "bundesverfassungsgericht.de",
    "bundesgerichtshof.de", "conseil-constitutionnel.fr", "courdecassation.fr", "law.justia.com",
    "casetext.com", "findlaw.com", "austlii.edu.au", "canlii.org", "scc-csc.ca", "hcourt.gov.au",
)  # fmt: skip
# Governments and intergovernmental organisations not caught by the suffix rules below.
GOVERNMENT_HOSTS = (
    "europa.eu", "un.org", "unhcr.org", "unicef.org", "imf.org", "worldbank.org", "oecd.org", "wto.org",
    "bundesregierung.de", "bundestag.de", "canada.ca", "gc.ca", "admin.ch", "parliament.uk", "nhs.uk",
    "police.uk", "elysee.fr", "kremlin.ru", "president.gov.ua", "congress.gov", "senate.gov", "house.gov",
)  # fmt: skip
GOVERNMENT_SUFFIXES = ("gov", "mil", "int")  # top-level domains of governments and treaties
# Second-level labels under a country code: gov.uk, gouv.fr, gob.mx, govt.nz, go.jp, gv.at ...
GOVERNMENT_LABELS = frozenset({"gov", "gouv", "gob", "govt", "go", "gv", "government"})
PRESS_HOSTS = ("prnewswire.com", "businesswire.com", "globenewswire.com", "ots.at", "presseportal.de")
DOCUMENT_HOSTS = ("documentcloud.org", "assets.documentcloud.org")
PRESS_WORDS = frozenset(
    {
        "press-release", "press-releases", "pressrelease", "pressreleases", "press", "newsroom", "press-room",
        "pressroom", "media-release", "media-releases", "news-releases", "news-release", "pressemitteilung",
        "pressemitteilungen", "presse", "communique", "communiques", "comunicado", "comunicados", "comunicati",
        "persbericht", "persberichten", "statements", "statement", "media-centre", "media-center",
    }
)  # fmt: skip
DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".odt", ".rtf")
DATA_EXTENSIONS = (".csv", ".xls", ".xlsx", ".ods", ".parquet", ".tsv")

# Links never a primary source, whatever their path says.
NEWS_HOSTS = (
    "reuters.com", "apnews.com", "afp.com", "bbc.co.uk", "bbc.com", "cnn.com", "nytimes.com",
    "washingtonpost.com", "theguardian.com", "wsj.com", "ft.com", "bloomberg.com", "economist.com",
    "nbcnews.com", "cbsnews.com", "abcnews.go.com", "foxnews.com", "npr.org", "politico.com", "politico.eu",
    "axios.com", "theatlantic.com", "newyorker.com", "time.com", "usatoday.com", "latimes.com",
    "independent.co.uk", "telegraph.co.uk", "thetimes.co.uk", "dailymail.co.uk", "news.sky.com", "aljazeera.com",
    "dw.com", "france24.com", "lemonde.fr", "spiegel.de", "zeit.de", "faz.net", "elpais.com", "corriere.it",
    "scotusblog.com", "news.google.com", "news.yahoo.com", "msn.com",
)  # fmt: skip
SOCIAL_HOSTS = (
    "twitter.com", "x.com", "t.co", "facebook.com", "fb.com", "instagram.com", "threads.net", "tiktok.com",
    "youtube.com", "youtu.be", "linkedin.com", "reddit.com", "t.me", "telegram.me", "bsky.app", "truthsocial.com",
    "mastodon.social", "vk.com", "weibo.com", "whatsapp.com", "pinterest.com", "snapchat.com", "tumblr.com",
    "medium.com", "substack.com",
)  # fmt: skip

DOI = re.compile(r"\b(10\.\d{4,9}/[^\s?#]+)", re.IGNORECASE)
ARXIV = re.compile(r"^/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?/?$")
NATURE = re.compile(r"^/articles/(s[\w.-]+?)(?:\.pdf)?/?$")
PUBMED = re.compile(r"^/(?:pubmed/)?(\d{5,9})/?$")
IDENTIFIER_KEYS = ("https://doi.org/", "https://arxiv.org/abs/", "https://pubmed.ncbi.nlm.nih.gov/")
GENERIC_LABELS = frozenset(
    {"here", "this", "link", "click here", "source", "report", "study", "statement", "pdf", "read more", "more"}
)


def _within(host: str, entries: Iterable[str]) -> bool:
    return any(host == entry or host.endswith("." + entry) for entry in entries)


def _is_government(host: str) -> bool:
    labels = host.split(".")
    if labels[-1] in GOVERNMENT_SUFFIXES:
        return True
    # gov.uk, gouv.fr, go.jp: a government label right before a two-letter country code.
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in GOVERNMENT_LABELS:
        return True
    # gov.pl, gov.it: "gov" right under the country code, with nothing in between.
    if len(labels) >= 2 and len(labels[-1]) == 2 and labels[-2] == "gov":
        return True
    return _within(host, GOVERNMENT_HOSTS)


@lru_cache(maxsize=4096)
def site_of(host: str) -> str:
    """The registrable domain of a host (news.bbc.co.uk -> bbc.co.uk), by courlan."""
    return (extract_domain(f"https://{host}/") or host).lower()


def _bare(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def document_key(url: str) -> str:
    """The key on which the forms of one document's URL meet."""
    parts = urlsplit(url)
    host = _bare((parts.hostname or "").lower())
    path = unquote(parts.path)
    doi = DOI.search(path) if (host.endswith("doi.org") or "/doi/" in path or "10." in path) else None
    if doi is None and parts.query:
        doi = DOI.search(unquote(parts.query))
    if doi:
        return "https://doi.org/" + doi.group(1).rstrip(".,;)/").lower()
    if host == "nature.com" and (match := NATURE.match(path)):
        return f"https://doi.org/10.1038/{match.group(1).lower()}"
    if host.endswith("arxiv.org") and (match := ARXIV.match(path)):
        return f"https://arxiv.org/abs/{match.group(1)}"
    if host in {"pubmed.ncbi.nlm.nih.gov", "ncbi.nlm.nih.gov"} and (match := PUBMED.match(path)):
        return f"https://pubmed.ncbi.nlm.nih.gov/{match.group(1)}/"
    path = parts.path.rstrip("/") or "/"
    return f"https://{host}{path}" + (f"?{parts.query}" if parts.query else "")


def kind_of(url: str) -> str | None:
    """The kind of document a (canonical) URL is, None when it is none (news and social
    links are refused by the caller, which knows the site's publishers)."""
    parts = urlsplit(url)
    host = _bare((parts.hostname or "").lower())
    path = parts.path.lower()
    if not host or (path in {"", "/"} and not parts.query):
        return None  # an organisation's home page is not a document
    if _within(host, SOCIAL_HOSTS):
        return None
    words = {w for w in path.split("/") if w}
    if (
        _within(host, STUDY_HOSTS)
        or DOI.search(unquote(path))
        or (host == "nature.com" and path.startswith("/articles/s"))
    ):
        return "study"
    if host.endswith("ncbi.nlm.nih.gov") and ("/pmc/" in path or PUBMED.match(path)):
        return "study"
    if _within(host, DATA_HOSTS) or path.endswith(DATA_EXTENSIONS) or (host == "kaggle.com" and "datasets" in words):
        return "data"
    if _within(host, COURT_HOSTS) or (_is_government(host) and any("court" in label for label in host.split("."))):
        return "court"
    if _within(host, PRESS_HOSTS) or words & PRESS_WORDS:
        return "press"
    if _is_government(host):
        return "government"
    if _within(host, DOCUMENT_HOSTS) or path.endswith(DOCUMENT_EXTENSIONS):
        return "document"
    return None


# --- links of an article ------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or None
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.found.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def links_in(html: str, base: str | None = None) -> list[tuple[str, str]]:
    """The (canonical URL, link text) of each http(s) link of a body."""
    if not html or "<a" not in html:
        return []
    parser = _Links()
    parser.feed(html)
    parser.close()
    out = []
    for href, text in parser.found:
        url = canonical_url(href, base, limit=1000)
        if url:
            out.append((url, text[: 4 * LABEL_CHARS]))
    return out


def candidates(article_url: str, html: str) -> list[tuple[str, str, str, str]]:
    """(key, url, kind, text) of each link of a body that is a document by the lists
    above, not on the article's own site; the site's publishers are refused later."""
    own = site_of(host_of(article_url))
    out = []
    for url, text in links_in(html, article_url):
        host = _bare(host_of(url))
        if site_of(host) == own or _within(host, NEWS_HOSTS):
            continue
        kind = kind_of(url)
        if kind:
            out.append((document_key(url), url, kind, text))
    return out


def _cache_key(pk: int, content_hash: str) -> str:
    return f"newsdesk:primary:{RULES_VERSION}:{pk}:{content_hash}"


def article_candidates(rows: list[tuple[int, str, str]]) -> dict[int, list]:
    """Each article's candidates by id, from (id, url, content_hash) rows: cached per
    content version, bodies read only for the articles not seen since they changed."""
    keys = {_cache_key(pk, digest): pk for pk, _, digest in rows}
    try:
        found = {keys[k]: v for k, v in cache.get_many(list(keys)).items()}
    except Exception:  # noqa: BLE001 - a cache outage costs a query, not the page
        found = {}
    missing = [pk for pk, _, _ in rows if pk not in found]
    if missing:
        fresh = {
            pk: candidates(url, html)
            for pk, url, html in Article.objects.filter(pk__in=missing).values_list("pk", "url", "body_html")
        }
        found.update(fresh)
        by_pk = {pk: key for key, pk in keys.items()}
        try:
            cache.set_many({by_pk[pk]: value for pk, value in fresh.items()}, CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            pass
    return found


# --- a story's primary sources ------------------------------------------------------------


@dataclass
class Linker:
    source: Source
    articles: int  # of this publisher's articles on the story that link to it


@dataclass
class PrimarySource:
    key: str
    url: str
    kind: str
    label: str
    host: str
    publishers: list[Linker] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def article_count(self) -> int:
        return sum(p.articles for p in self.publishers)

    def as_data(self) -> dict:
        return {
            "url": self.url,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "label": self.label,
            "host": self.host,
            "publishers": [
                {"slug": p.source.slug, "name": p.source.name, "articles": p.articles} for p in self.publishers
            ],
        }


@dataclass
class _Entry:
    kind: str
    urls: Counter[str] = field(default_factory=Counter)
    texts: Counter[str] = field(default_factory=Counter)
    by: Counter[int] = field(default_factory=Counter)  # articles per source id
    articles: set[int] = field(default_factory=set)


def _news_sites() -> set[str]:
    return {site_of(host_of(url)) for url in Source.objects.values_list("home_url", flat=True) if url}


def _label(texts: Counter[str], url: str) -> str:
    good = [(n, len(t), t) for t, n in texts.items() if t and t.lower().strip(" .:") not in GENERIC_LABELS]
    if good:
        text = max(good)[2]
        return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"
    parts = urlsplit(url)
    tail = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or _bare(parts.hostname or "")
    return f"{_bare(parts.hostname or '')}: {tail}"[:LABEL_CHARS]


def of_story(story: Story) -> list[PrimarySource]:
    """The story's primary sources: most publishers first, then most articles."""
    rows = list(Article.objects.filter(story_member__story=story).values_list("pk", "url", "content_hash", "source_id"))
    return _collect(rows)[:MAX_SOURCES]


def of_article(article: Article, story: Story | None = None) -> list[PrimarySource]:
    """The primary sources the article links to, each with every publisher of its story
    (when it is in one) that links to it too; ordered as a story's are."""
    row = (article.pk, article.url, article.content_hash, article.source_id)
    own = {key for key, *_ in article_candidates([row[:3]]).get(article.pk, [])}
    if not own:
        return []
    rows = (
        list(Article.objects.filter(story_member__story=story).values_list("pk", "url", "content_hash", "source_id"))
        if story is not None
        else []
    )
    if article.pk not in {r[0] for r in rows}:
        rows.append(row)
    return [p for p in _collect(rows) if p.key in own][:MAX_SOURCES]


def _collect(rows: list[tuple[int, str, str, int]]) -> list[PrimarySource]:
    """The primary sources of these (id, url, content_hash, source id) article rows, all
    of them, most publishers first, then most articles."""
    if not rows:
        return []
    found = article_candidates([(pk, url, digest) for pk, url, digest, _ in rows])
    news = _news_sites()
    source_of = {pk: source_id for pk, _, _, source_id in rows}
    by_key: dict[str, _Entry] = {}
    for pk, items in found.items():
        for key, url, kind, text in items:
            if site_of(_bare(host_of(url))) in news:
                continue
            entry = by_key.setdefault(key, _Entry(kind))
            if pk in entry.articles:
                continue  # an article linking twice to one document counts once
            entry.articles.add(pk)
            entry.urls[url] += 1
            entry.texts[text] += 1
            entry.by[source_of[pk]] += 1
    if not by_key:
        return []
    sources = Source.objects.in_bulk({s for e in by_key.values() for s in e.by})
    out = []
    for key, entry in by_key.items():
        # An identifier's own resolver (doi.org, arXiv, PubMed) rather than a mirror of it.
        url = key if key.startswith(IDENTIFIER_KEYS) else entry.urls.most_common(1)[0][0]
        linkers = sorted(
            (Linker(sources[s], n) for s, n in entry.by.items() if s in sources),
            key=lambda p: (-p.articles, p.source.name.lower()),
        )
        out.append(PrimarySource(key, url, entry.kind, _label(entry.texts, url), _bare(host_of(url)), linkers))
    out.sort(key=lambda p: (-len(p.publishers), -p.article_count, KIND_ORDER.index(p.kind), p.label.lower()))
    return out


def story_primary_sources(story: Story) -> list[dict]:
    """Plain data for the API."""
    return [p.as_data() for p in of_story(story)]


def article_primary_sources(article: Article, story: Story | None = None) -> list[dict]:
    """Plain data for the article API."""
    return [p.as_data() for p in of_article(article, story)]


__all__ = [
    "KINDS",
    "PrimarySource",
    "of_story",
    "of_article",
    "article_primary_sources",
    "kind_of",
    "document_key",
    "links_in",
    "story_primary_sources",
]
