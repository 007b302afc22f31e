"""What the API returns and accepts. Every field is plain data: text is text (never
HTML to be trusted), except the `*_html` fields, which say what they are."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum

from ninja import Field, Schema
from pydantic import field_validator

from newsdesk.ai.sections import SECTIONS
from newsdesk.comments.models import MAX_LENGTH as COMMENT_MAX_LENGTH
from newsdesk.links import canonical_url
from newsdesk.sources.models import Source

# Members built at import from the lists they mirror, which mypy cannot see (hence the ignores).
Section = Enum("Section", {name: name for name in SECTIONS}, type=str)  # type: ignore[misc]
SourceKind = Enum("SourceKind", {value: value for value in Source.Kind.values}, type=str)  # type: ignore[misc]

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
# A first filter for the schema (and for generated clients); links.canonical_url decides.
URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://[^\s/?#]+([/?#]\S*)?$"


# --- Errors ------------------------------------------------------------------------------


class ErrorItem(Schema):
    loc: list[str | int] = Field(description="where: e.g. ['query', 'limit'] or ['body', 'url']")
    msg: str
    type: str


class Error(Schema):
    detail: str = Field(description="what went wrong, in words")
    errors: list[ErrorItem] | None = Field(None, description="each invalid input (422 only)")


# --- Shared pieces -----------------------------------------------------------------------


class PageInfo(Schema):
    count: int = Field(description="items in all pages")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, null on the last")
    previous: str | None = Field(description="URL of the previous page, null on the first")


class SourceRef(Schema):
    slug: str
    name: str


class HashtagRef(Schema):
    slug: str
    name: str
    kind: str


# --- Perspectives (newsdesk/perspectives/): who covers a story, its claims, its documents --


class CoveragePart(Schema):
    key: str = Field(description="region key, ISO country or language code, kind, owner; empty: not known")
    label: str
    count: int = Field(description="publishers in this part")
    share: float = Field(description="of the story's publishers, 0 to 1")
    publishers: list[str] = Field(description="their slugs, by name")


class CoverageDimension(Schema):
    key: str = Field(description="region, country, kind, language or owner")
    title: str
    parts: list[CoveragePart] = Field(description="largest first, not known last")


class CoverageFlag(Schema):
    rule: str = Field(description="state-only, one-region, one-kind, missing-kind or missing-region")
    title: str
    groups: list[str] = Field(description="the regions or kinds of outlet concerned")
    statement: str = Field(description="why the rule flags this story, in words")


class Coverage(Schema):
    publishers: int
    dimensions: list[CoverageDimension]
    blindspots: list[CoverageFlag] = Field(
        description="the blindspot rules this story meets (see /stories/blindspots/)"
    )


class PrimaryLinker(Schema):
    slug: str
    name: str
    articles: int = Field(description="of this publisher's articles on the story that link to it")


class PrimarySource(Schema):
    url: str = Field(description="the most linked form of the document's URL")
    kind: str = Field(description="study, court, government, press, data or document")
    kind_label: str
    label: str = Field(description="the link text (the most used one), or the URL's last part")
    host: str
    publishers: list[PrimaryLinker] = Field(description="the publishers that link to it, most-linked first")


class ClaimCitation(Schema):
    article: int
    url: str = Field(description="the article's page on this site")
    publisher: str = Field(description="the publisher's slug")
    publisher_name: str
    sentence: int = Field(description="index of the sentence in the article's text; -1: the headline")
    text: str = Field(description="the sentence, as the article has it")
    value: str = Field(description="the figure as written in it, or the quotation")
    speaker: str = Field(description="who the quotation is attributed to there; empty when no one is named")
    published_at: datetime


class StoryClaim(Schema):
    kind: str = Field(description="figure or quote")
    what: str = Field(description="what the figure measures: deaths, amount in USD, percentage, who said it, ...")
    value: str = Field(description="the figure as the first publisher wrote it; empty for a quotation")
    text: str = Field(description="the sentence of the first publisher to report it")
    publishers: int = Field(description="publishers that state it")
    of_publishers: int = Field(description="publishers of the story")
    citations: list[ClaimCitation] = Field(description="one sentence per publisher, earliest first")


class ClaimVersion(Schema):
    value: str = Field(description="the figure as written, or the person a quotation is attributed to")
    newer: bool = Field(description="first reported after the other version")
    first_reported: datetime
    publishers: int
    citations: list[ClaimCitation]


class ClaimConflict(Schema):
    kind: str = Field(description="figure: different figures for the same thing; quote: different speakers")
    what: str
    versions: list[ClaimVersion] = Field(description="the two versions, first reported first")


class RevisionSummary(Schema):
    revisions: int = Field(description="revisions kept; 0: never changed since first stored")
    updates: int = Field(description="updates they stand for (older ones are merged into one revision)")
    corrected: bool = Field(description="the publisher marked a change as a correction")
    corrected_at: datetime | None = Field(description="when the newest correction was stored")
    last_changed_at: datetime | None = Field(description="when the newest version was stored; null: never changed")


class GlancePart(Schema):
    key: str = Field(description="the kind of outlet or region key; empty: not known")
    label: str
    count: int = Field(description="publishers")


class StoryGlance(Schema):
    """A story's perspectives in a few numbers, for lists."""

    publishers: int
    kinds: list[GlancePart] = Field(description="publishers by kind of outlet, largest first")
    regions: list[GlancePart] = Field(description="publishers by region, largest first")
    agreements: int = Field(description="claims stated alike by two or more publishers (as last aligned)")
    conflicts: int = Field(description="figures or attributions that differ between publishers (as last aligned)")
    corrected_articles: int = Field(description="of the story's articles, those their publisher corrected")


# --- Articles ----------------------------------------------------------------------------


class SearchMatch(Schema):
    score: float = Field(description="relevance × freshness; higher is better")
    snippet: str = Field(description="the best passage, plain text")
    snippet_html: str = Field(
        description="the same passage as escaped HTML whose only elements are <mark> around matches"
    )


class ArticleItem(Schema):
    id: int
    title: str
    url: str = Field(description="the article on the publisher's site")
    site_url: str = Field(description="the article on this site")
    source: SourceRef
    byline: str
    description: str
    language: str = Field(description="ISO 639-1, possibly with a region (en, pt-BR); empty when unknown")
    lead_image: str
    published_at: datetime
    modified_at: datetime | None
    word_count: int
    reading_time: int = Field(description="minutes")
    section: str | None = Field(description="from the AI stage; null until enriched")
    hashtags: list[HashtagRef]
    also_published_by: list[SourceRef] = Field(
        description="the other publishers of this same text (syndicated copies), by name; lists show a text once"
    )


class ArticleListItem(ArticleItem):
    match: SearchMatch | None = Field(description="present when the list answers a search (q)")


class ArticlePage(PageInfo):
    items: list[ArticleListItem]


class KeyPoint(Schema):
    text: str
    sentences: list[int] = Field(description="indexes of the article sentences it comes from")


class EnrichmentOut(Schema):
    summary: str = Field(description="at most 3 sentences of the article")
    summary_sentences: list[int] = Field(description="indexes of the article sentences used")
    key_points: list[KeyPoint]
    llm_summary: str = Field(description="optional LLM rewording of the summary; empty without one")
    section: str
    section_confidence: float
    methods: dict[str, str] = Field(description="method version of each feature")
    enriched_at: datetime


class StoryRef(Schema):
    id: int
    title: str
    article_count: int
    publisher_count: int


class DiffPiece(Schema):
    kind: str = Field(description='"same", "ins" (added) or "del" (removed)')
    text: str


class DiffParagraph(Schema):
    unchanged: int = Field(description="a run of this many unchanged paragraphs (then `pieces` is empty)")
    pieces: list[DiffPiece] = Field(description="a changed paragraph, word by word")


class RevisionOut(Schema):
    revised_at: datetime = Field(description="when newsdesk stored the newer version")
    stated_at: datetime | None = Field(description="the newer version's time as the publisher states it")
    is_correction: bool = Field(description="the publisher marked the change as a correction")
    note_kind: str = Field(description='"correction", "clarification", "editors-note", "update" or ""')
    note: str = Field(description="the note the newer version added, as the publisher wrote it")
    updates: int = Field(description="how many updates this revision stands for (older ones are merged)")
    title: list[DiffPiece] | None = Field(description="the headline's change; null: unchanged")
    description: list[DiffPiece] | None = Field(description="the description's change; null: unchanged")
    body: list[DiffParagraph] | None = Field(description="the text's change; null: unchanged")
    words_added: int
    words_removed: int


class ArticleDetail(ArticleItem):
    body_text: str = Field(description="the article text, plain")
    body_html: str = Field(description="the article body as HTML, sanitized with an allow-list on the way in")
    publisher_sections: list[str] = Field(
        description="the publisher's own section labels for it (the page's, then the feed's categories), as given"
    )
    enrichment: EnrichmentOut | None = Field(description="null until the AI stage has run")
    story: StoryRef | None
    duplicate_of: int | None = Field(description="id of the original when this is a syndicated copy")
    comment_count: int = Field(description="published comments and replies")
    revisions: list[RevisionOut] = Field(description="what the publisher changed since first stored, newest first")
    coverage: Coverage | None = Field(description="who covers its story; null when it is in no story")
    claims: list[StoryClaim] = Field(
        description="its story's claims that this article states alike with other publishers (it is among the citations)"
    )
    conflicts: list[ClaimConflict] = Field(
        description="its story's conflicts this article is part of (one of its sentences is cited in a version)"
    )
    primary_sources: list[PrimarySource] = Field(
        description="documents this article links to, each with every publisher of its story that links to it"
    )


class RelatedOut(Schema):
    items: list[ArticleItem]


# --- Stories -----------------------------------------------------------------------------


class StorySentence(Schema):
    text: str
    article: int | None = Field(description="id of the article the sentence cites")


class StoryItem(Schema):
    id: int
    title: str
    site_url: str | None
    first_seen: datetime
    last_seen: datetime
    article_count: int
    publisher_count: int
    country_count: int
    hashtags: list[str] = Field(description="slugs of the main hashtags, best first")
    representative_id: int | None


class StoryPage(PageInfo):
    items: list[StoryItem]


class StoryMemberOut(Schema):
    article: ArticleItem
    similarity: float
    joined_at: datetime
    changes: RevisionSummary = Field(description="what its publisher changed in it since first stored")


class StoryDetail(StoryItem):
    summary: list[StorySentence]
    members: list[StoryMemberOut] = Field(description="oldest first: the story's timeline")


# --- Sources and feeds -------------------------------------------------------------------


class FeedOut(Schema):
    id: int
    source: str = Field(description="slug of the source")
    url: str
    title: str
    kind: str = Field(description="rss, rdf, atom, json, sitemap; empty before the first fetch")
    enabled: bool
    created_at: datetime
    healthy: bool
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    last_status: int | None
    last_error: str
    error_count: int = Field(description="consecutive failures")
    interval_seconds: int
    next_fetch_at: datetime


class SourceOut(Schema):
    slug: str
    name: str
    home_url: str
    site_url: str
    country: str
    language: str
    kind: str
    created_at: datetime
    feed_count: int


class SourcePage(PageInfo):
    items: list[SourceOut]


class SourceDetail(SourceOut):
    feeds: list[FeedOut]


def _http_url(limit: int) -> Callable[[str | None], str | None]:
    """Canonicalise a URL field; the canonical form (scheme and host lowercased, a path
    added) can be longer than what was sent, so the column's limit is checked again."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        url = canonical_url(value)
        if url is None:
            raise ValueError("must be an http:// or https:// URL")
        if len(url) > limit:
            raise ValueError(f"must be at most {limit} characters once normalised")
        return url

    return check


def _upper(value: str | None) -> str | None:
    return value.upper() if value else value


def _lower(value: str | None) -> str | None:
    return value.lower() if value else value


class SourceIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)
    home_url: str = Field(max_length=500, pattern=URL_PATTERN, description="http(s) URL of the home page")
    country: str = Field("", pattern=r"^([A-Za-z]{2})?$", description="ISO 3166-1 alpha-2")
    language: str = Field("", max_length=8, pattern=r"^(" + LANGUAGE_PATTERN[1:-1] + r")?$")
    kind: SourceKind = SourceKind(Source.Kind.COMMERCIAL)

    check_url = field_validator("home_url")(_http_url(500))
    check_country = field_validator("country")(_upper)
    check_language = field_validator("language")(_lower)

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value


class SourcePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, min_length=1, max_length=100, pattern=SLUG_PATTERN)
    home_url: str | None = Field(None, max_length=500, pattern=URL_PATTERN)
    country: str | None = Field(None, pattern=r"^([A-Za-z]{2})?$")
    language: str | None = Field(None, max_length=8, pattern=r"^(" + LANGUAGE_PATTERN[1:-1] + r")?$")
    kind: SourceKind | None = None

    check_url = field_validator("home_url")(_http_url(500))
    check_country = field_validator("country")(_upper)
    check_language = field_validator("language")(_lower)

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value


class FeedIn(Schema):
    url: str = Field(
        max_length=1000,
        pattern=URL_PATTERN,
        description="the feed or news sitemap; polled by the scheduler",
    )
    title: str = Field("", max_length=300)
    enabled: bool = True

    check_url = field_validator("url")(_http_url(1000))


class FeedPatch(Schema):
    url: str | None = Field(None, max_length=1000, pattern=URL_PATTERN)
    title: str | None = Field(None, max_length=300)
    enabled: bool | None = None

    check_url = field_validator("url")(_http_url(1000))


# --- Hashtags ----------------------------------------------------------------------------


class HashtagOut(Schema):
    slug: str
    name: str
    kind: str = Field(description="person, place, organization or topic")
    article_count: int
    site_url: str | None


class HashtagPage(PageInfo):
    items: list[HashtagOut]


class TrendingHashtag(HashtagOut):
    recent_count: int = Field(description="articles with the hashtag published in the window")
    before_count: int = Field(description="articles with the hashtag published in as long a time before the window")


class TrendingOut(Schema):
    hours: int
    since: datetime = Field(description="the window's start")
    until: datetime = Field(description="the window's end: now, or the newest tagged article when none is that recent")
    items: list[TrendingHashtag]


class HashtagDetail(HashtagOut):
    articles: ArticlePage


# --- Comments ----------------------------------------------------------------------------


class CommentOut(Schema):
    id: int
    parent: int | None
    author: str | None = Field(description="username; null once the author is gone or the text is")
    status: str = Field(description="published, pending (yours, awaiting moderation), hidden, removed or deleted")
    body: str = Field(description="plain text exactly as typed; empty when not shown")
    placeholder: str = Field(description="what stands in for a comment that is not shown, e.g. [deleted]")
    held_reason: str = Field(description="why your own comment awaits moderation; empty otherwise")
    created_at: datetime
    edited_at: datetime | None
    replies: list[CommentOut]


class CommentPage(PageInfo):
    published: int = Field(description="published comments and replies on the article")
    items: list[CommentOut] = Field(description="top-level comments with their replies, oldest first")


class CommentIn(Schema):
    body: str = Field(
        max_length=COMMENT_MAX_LENGTH * 2,
        description=f"plain text, up to {COMMENT_MAX_LENGTH} characters",
    )
    parent: int | None = Field(None, ge=1, le=2**63 - 1, description="the comment this replies to")


# --- Tokens ------------------------------------------------------------------------------


class TokenInfo(Schema):
    prefix: str
    name: str
    created_at: datetime
    expires_at: datetime | None


class MeOut(Schema):
    username: str
    is_staff: bool
    can_moderate: bool
    token: TokenInfo
