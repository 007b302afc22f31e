"""Claims of articles and their alignment per story: the database side of
`newsdesk.ai.claims` and `newsdesk.ai.claim_alignment`.

Claims are extracted as articles are enriched (`CLAIMS`, an enricher registered by the
app) and stored per article with the embedding of each claim's sentence. A story's
alignment is refreshed in a task (`tasks.align_claims_task`) queued whenever a story's
membership changes (`stories_changed`): only the articles not aligned yet are compared,
each new fact against the facts already placed, so a story of many articles costs its new
article's facts times its facts, not every pair again. An article that left the story
(a moderator's correction) or a new method version starts the story over. What pages and
the API show is computed then and kept as the alignment's `summary`: a page reads one row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from newsdesk.ai import claim_alignment, claims, embeddings
from newsdesk.ai.claim_alignment import Fact
from newsdesk.pipeline.enrichers import Context, Enricher
from newsdesk.stories.windows import effective_time

if TYPE_CHECKING:
    from newsdesk.articles.models import Article

log = logging.getLogger(__name__)

# 2: English plurals in `what`. 3: a conflict needs the same period on both sides; exact whole
# numbers that differ (12 / 13) differ; a bound is no value; no conflict without comparable words
# after both figures; names compared case aside and by a part (stored stories are aligned again).
VERSION = f"{claims.VERSION}+align-3"
SUMMARY_LIMIT = 40  # agreements kept in a story's summary (most publishers first)


# --- Extraction, as part of the enrichment ---------------------------------------------


@dataclass(frozen=True)
class Extracted:
    claims: list[claims.Claim]


def extract(title: str, text: str, language: str) -> Extracted:
    """The article's claims with the entities of each sentence. Their sentences are
    embedded later (`_embed_missing`), once the article is in a story of two publishers
    or more: most stories have one, and the embedding is most of a claim's cost."""
    names = claims.sentence_entities(title, text, language=language or "en") if text or title else {}
    return Extracted(claims.extract_claims(title, text, language=language or "en", names=names))


def _analyse(article: Article, context: Context) -> Extracted:
    return extract(article.title, context.text, article.language)


def store_claims(article: Article, extracted: Extracted) -> None:
    """Replace the article's claims (an article updated in place gets its new ones)."""
    from newsdesk.perspectives.models import ArticleClaim, ClaimsExtracted

    ArticleClaim.objects.filter(article=article).delete()
    ArticleClaim.objects.bulk_create(
        ArticleClaim(article=article, sentence=c.sentence, text=c.text, data=claims.to_data(c), vector=b"")
        for c in extracted.claims
    )
    ClaimsExtracted.objects.update_or_create(article=article, defaults={"version": claims.VERSION})


# No version recorded in Enrichment.methods: articles enriched before claims existed get
# theirs when their story is next aligned (`_ensure_claims`), without re-enriching them all.
CLAIMS: Enricher[Extracted] = Enricher(name="claims", analyse=_analyse, store=store_claims)


def _ensure_claims(article_ids: Iterable[int]) -> None:
    """Extract the claims of articles that have none stored by the current method."""
    from newsdesk.articles.models import Article
    from newsdesk.perspectives.models import ClaimsExtracted

    ids = set(article_ids)
    done = set(
        ClaimsExtracted.objects.filter(article_id__in=ids, version=claims.VERSION).values_list("article_id", flat=True)
    )
    for article in Article.objects.filter(pk__in=ids - done):
        found = extract(article.title, article.body_text or article.description, article.language)
        with transaction.atomic():
            store_claims(article, found)


# --- Alignment per story -----------------------------------------------------------------


def refresh_stories(story_ids: Iterable[int]) -> int:
    """Bring the alignment of these stories up to date; returns how many facts were placed."""
    placed = 0
    for story_id in sorted(set(story_ids)):
        try:
            placed += refresh_story(story_id)
        except embeddings.EmbedderUnavailable:
            raise  # the task is retried whole
        except Exception:  # one story's failure must not cost the others theirs
            log.exception("aligning the claims of story %s failed", story_id)
    return placed


def refresh_story(story_id: int) -> int:
    from newsdesk.articles.models import Article, from_blob
    from newsdesk.perspectives.models import AlignedArticle, ArticleClaim, ClaimAlignment
    from newsdesk.stories.models import Story

    story = Story.objects.filter(pk=story_id).first()
    if story is None:
        return 0
    members = {
        pk: (source_id, effective_time(published, created))
        for pk, source_id, published, created in Article.objects.filter(story_member__story_id=story_id).values_list(
            "pk", "source_id", "published_at", "created_at"
        )
    }
    state = ClaimAlignment.objects.filter(story_id=story_id).first()
    aligned = set(AlignedArticle.objects.filter(story_id=story_id).values_list("article_id", flat=True))
    placed: dict[tuple[int, int], int] = {}
    if state is not None and state.version == VERSION and aligned <= set(members):
        placed = {(int(c), int(p)): int(k) for c, p, k in state.placed}
    else:
        aligned = set()  # first time, a new method, or an article left the story: start over
    new_articles = set(members) - aligned
    if state is not None and not new_articles and len(aligned) == len(members) and state.version == VERSION:
        # Up to date: say so, or the scheduler's repair pass (repair.py) would find it behind its members.
        ClaimAlignment.objects.filter(story_id=story_id).update(updated_at=timezone.now())
        return 0
    sources = {source for source, _ in members.values()}
    if len(sources) < 2:  # nothing to compare yet: no extraction, no embedding, nothing aligned
        _write(story_id, [], {"publishers": len(sources), "agreements": [], "conflicts": []}, set(), set())
        return 0
    _ensure_claims(new_articles)
    _embed_missing(set(members))
    rows = list(
        ArticleClaim.objects.filter(article_id__in=list(members)).values_list(
            "pk", "article_id", "sentence", "text", "data", "vector"
        )
    )
    by_article: dict[int, list[Fact]] = defaultdict(list)
    for pk, article_id, sentence, text, data, vector in rows:
        source_id, when = members[article_id]
        claim = claims.from_data(sentence, text, data)
        by_article[article_id].extend(
            claim_alignment.facts_of(
                claim, pk, article=article_id, source=source_id, published=when.timestamp(), vector=from_blob(vector)
            )
        )
    # An aligned article whose claims changed since (re-enriched) is aligned again.
    for article_id in list(aligned):
        if any(f.key not in placed for f in by_article.get(article_id, [])):
            aligned.discard(article_id)
            new_articles.add(article_id)
    old = [(f, placed[f.key]) for a in aligned for f in by_article.get(a, []) if f.key in placed]
    new = [f for a in new_articles for f in by_article.get(a, [])]
    assigned = old + claim_alignment.assign(old, new)
    _write(story_id, assigned, summarise(assigned, publishers=len(sources)), aligned, new_articles)
    return len(new)


def _write(
    story_id: int, assigned: list[tuple[Fact, int]], summary: dict, aligned: set[int], new_articles: set[int]
) -> None:
    from newsdesk.perspectives.models import AlignedArticle, ClaimAlignment

    with transaction.atomic():
        ClaimAlignment.objects.update_or_create(
            story_id=story_id,
            defaults={
                "version": VERSION,
                "placed": [[f.key[0], f.key[1], cluster] for f, cluster in assigned],
                "summary": summary,
                "agreement_count": len(summary["agreements"]),
                "conflict_count": len(summary["conflicts"]),
                "updated_at": timezone.now(),
            },
        )
        if not aligned:
            AlignedArticle.objects.filter(story_id=story_id).delete()
        AlignedArticle.objects.bulk_create(
            [AlignedArticle(story_id=story_id, article_id=a) for a in new_articles], ignore_conflicts=True
        )


def _embed_missing(article_ids: set[int]) -> None:
    """Embed, in one call, the claim sentences of these articles that have no vector yet:
    claims are embedded only once their article is in a story of two publishers."""
    from newsdesk.articles.models import to_blob
    from newsdesk.perspectives.models import ArticleClaim

    missing = list(ArticleClaim.objects.filter(article_id__in=article_ids, vector=b"").only("pk", "text"))
    if not missing:
        return
    vectors = embeddings.embed([c.text for c in missing])
    for claim, vector in zip(missing, vectors, strict=True):
        claim.vector = to_blob(vector)
    ArticleClaim.objects.bulk_update(missing, ["vector"], batch_size=200)


# --- What pages and the API show ------------------------------------------------------------

LABELS = {
    "percent": "percentage",
    "date": "date",
    "time": "time of day",
    "age": "age",
    "quote": "who said it",
}


def label(dimension: str) -> str:
    """Words for what a cluster's figures measure: "deaths", "amount in USD", "months"."""
    kind, _, detail = dimension.partition(":")
    if dimension in LABELS:
        return LABELS[dimension]
    if kind == "money":
        currency, _, per = detail.partition("/")
        return f"amount in {currency}" + (f" per {per}" if per else "")
    if kind == "count":
        return {"death": "deaths", "people": "people", "injured": "injured"}.get(detail, _plural(detail))
    if kind == "unit":
        return _plural(detail)
    return kind


def _plural(noun: str) -> str:
    """English plural of the singular the claims store ("inch" -> "inches", "company" ->
    "companies"): "+s" alone printed "inchs" and "companys" on real pages."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return noun[:-1] + "ies"
    return noun + "s"


def _citation(fact: Fact) -> dict[str, Any]:
    figure = fact.figure
    return {
        "article": fact.article,
        "source": fact.source,
        "sentence": fact.claim.sentence,
        "text": fact.claim.text,
        "value": figure.text if figure else fact.claim.quote.text if fact.claim.quote else "",
        "speaker": fact.claim.quote.speaker if fact.claim.quote else "",
        "published": datetime.fromtimestamp(fact.published, UTC).isoformat(),
    }


def _one_per_source(facts: list[Fact]) -> list[Fact]:
    seen: set[int] = set()
    out = []
    # An article's sentence before its headline: it says more, and says where.
    for fact in sorted(facts, key=lambda f: (f.published, f.claim.sentence < 0, f.key)):
        if fact.source not in seen:
            seen.add(fact.source)
            out.append(fact)
    return out


def _figure_text(facts: list[Fact]) -> str:
    """The fullest way the facts write their figure ("12 people" rather than "12")."""
    return max((f.figure.text for f in facts if f.figure), key=len, default="")


def summarise(assigned: list[tuple[Fact, int]], *, publishers: int) -> dict[str, Any]:
    """Agreements (a claim stated alike by two or more publishers) and conflicts (two
    versions of a figure, or of who said a quotation, that `relate` calls conflicting),
    with citations, newest version marked."""
    clusters: dict[int, list[Fact]] = defaultdict(list)
    for fact, cluster in assigned:
        clusters[cluster].append(fact)
    agreements: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    for cluster, facts in clusters.items():
        if len({f.source for f in facts}) < 2:
            continue
        versions = claim_alignment.versions(facts)
        kind = "quote" if facts[0].figure is None else "figure"
        dimension = facts[0].figure.dimension if facts[0].figure else "quote"
        conflict = None
        for i, first in enumerate(versions):
            for second in versions[i + 1 :]:
                pairs = claim_alignment.conflicting_pairs(first, second)
                if pairs and (conflict is None or len(first.sources | second.sources) > conflict[0]):
                    conflict = (len(first.sources | second.sources), first, second)
        if conflict is not None:
            _, first, second = conflict
            newer = max((first, second), key=lambda v: v.first_reported)
            conflicts.append(
                {
                    "cluster": cluster,
                    "kind": kind,
                    "what": label(dimension),
                    "versions": [
                        {
                            "value": _figure_text(v.facts)
                            if kind == "figure"
                            else _one_per_source(v.facts)[0].claim.quote.speaker,  # type: ignore[union-attr]
                            "newer": v is newer,
                            "first_reported": datetime.fromtimestamp(v.first_reported, UTC).isoformat(),
                            "publishers": len(v.sources),
                            "citations": [_citation(f) for f in _one_per_source(v.facts)],
                        }
                        for v in sorted((first, second), key=lambda v: v.first_reported)
                    ],
                }
            )
        best = max(versions, key=lambda v: (len(v.sources), -v.first_reported))
        if conflict is None and len(best.sources) >= 2:  # a disputed figure is shown as a conflict only
            cited = _one_per_source(best.facts)
            agreements.append(
                {
                    "cluster": cluster,
                    "kind": kind,
                    "what": label(dimension),
                    "value": _figure_text(best.facts) if kind == "figure" else "",
                    "text": cited[0].claim.text,
                    "publishers": len(best.sources),
                    "citations": [_citation(f) for f in cited],
                }
            )
    agreements.sort(key=lambda a: (-a["publishers"], a["citations"][0]["published"], a["cluster"]))
    conflicts.sort(key=lambda c: (-sum(v["publishers"] for v in c["versions"]), c["cluster"]))
    return {"publishers": publishers, "agreements": agreements[:SUMMARY_LIMIT], "conflicts": conflicts}


# --- Queued when stories change ----------------------------------------------------------------


def queue_alignment(sender: object, article_ids: Iterable[int], **kwargs: object) -> None:
    """`stories_changed` receiver: queue the alignment of the stories these articles are
    in (the work is done by a worker, never in the request or task that changed them)."""
    from newsdesk.perspectives.tasks import align_claims_task
    from newsdesk.stories.models import StoryMember

    ids = list(article_ids)
    story_ids = sorted(set(StoryMember.objects.filter(article_id__in=ids).values_list("story_id", flat=True)))
    for start in range(0, len(story_ids), 50):
        align_claims_task.enqueue(story_ids[start : start + 50])


# --- Reading a story's summary for pages and the API -----------------------------------------


@dataclass
class Citation:
    article: Any  # Article
    source: Any  # Source
    sentence: int
    text: str
    value: str
    speaker: str
    published: datetime


@dataclass
class Agreement:
    kind: str
    what: str
    value: str
    text: str
    publishers: int
    citations: list[Citation]


@dataclass
class Version:
    value: str
    newer: bool
    first_reported: datetime
    publishers: int
    citations: list[Citation]


@dataclass
class Conflict:
    kind: str
    what: str
    versions: list[Version]


@dataclass
class StoryClaims:
    publishers: int  # of the story, for "reported by N of M"
    agreements: list[Agreement]
    conflicts: list[Conflict]

    def __bool__(self) -> bool:
        return bool(self.agreements or self.conflicts)


def story_claims(story: Any) -> StoryClaims:
    """A story's agreements and conflicts as stored by its last alignment, with their
    articles and publishers (two queries besides the row), citing only current members:
    a moderator's correction is seen at once, before the next alignment."""
    from newsdesk.articles.models import Article
    from newsdesk.perspectives.models import ClaimAlignment
    from newsdesk.sources.models import Source

    row = ClaimAlignment.objects.filter(story_id=story.pk).values_list("summary", flat=True).first()
    if not row:
        return StoryClaims(0, [], [])
    ids = {c["article"] for a in row["agreements"] for c in a["citations"]}
    ids |= {c["article"] for k in row["conflicts"] for v in k["versions"] for c in v["citations"]}
    articles = Article.objects.filter(pk__in=ids, story_member__story_id=story.pk).only(
        "pk", "title", "source_id", "published_at"
    )
    by_id = {a.pk: a for a in articles}
    sources = Source.objects.in_bulk({a.source_id for a in by_id.values()})

    def cite(items: list[dict]) -> list[Citation]:
        out = []
        for c in items:
            article = by_id.get(c["article"])
            if article is None:
                continue
            out.append(
                Citation(
                    article,
                    sources[article.source_id],
                    c["sentence"],
                    c["text"],
                    c.get("value", ""),
                    c.get("speaker", ""),
                    datetime.fromisoformat(c["published"]),
                )
            )
        return out

    agreements = []
    for a in row["agreements"]:
        citations = cite(a["citations"])
        if len({c.source.pk for c in citations}) >= 2:
            agreements.append(Agreement(a["kind"], a["what"], a["value"], citations[0].text, len(citations), citations))
    conflicts = []
    for k in row["conflicts"]:
        versions = []
        for v in k["versions"]:
            citations = cite(v["citations"])
            if citations:
                versions.append(
                    Version(
                        v["value"], v["newer"], datetime.fromisoformat(v["first_reported"]), len(citations), citations
                    )
                )
        if len(versions) == 2:
            conflicts.append(Conflict(k["kind"], k["what"], versions))
    return StoryClaims(story.publisher_count or row.get("publishers", 0), agreements, conflicts)


def story_claims_data(story: Any) -> dict[str, list[dict[str, Any]]]:
    """`claims` and `conflicts` of the story API."""
    found = story_claims(story)

    def citation(c: Citation) -> dict[str, Any]:
        return {
            "article": c.article.pk,
            "url": c.article.get_absolute_url(),
            "publisher": c.source.slug,
            "publisher_name": c.source.name,
            "sentence": c.sentence,
            "text": c.text,
            "value": c.value,
            "speaker": c.speaker,
            "published_at": c.published,
        }

    return {
        "claims": [
            {
                "kind": a.kind,
                "what": a.what,
                "value": a.value,
                "text": a.text,
                "publishers": a.publishers,
                "of_publishers": found.publishers,
                "citations": [citation(c) for c in a.citations],
            }
            for a in found.agreements
        ],
        "conflicts": [
            {
                "kind": k.kind,
                "what": k.what,
                "versions": [
                    {
                        "value": v.value,
                        "newer": v.newer,
                        "first_reported": v.first_reported,
                        "publishers": v.publishers,
                        "citations": [citation(c) for c in v.citations],
                    }
                    for v in k.versions
                ],
            }
            for k in found.conflicts
        ],
    }


def article_claims_data(article: Any, story: Any | None) -> dict[str, list[dict[str, Any]]]:
    """`claims` and `conflicts` of the article API: its story's, those this article is
    cited in (the claims it states alike with others, the conflicts it takes a side in)."""
    if story is None:
        return {"claims": [], "conflicts": []}
    found = story_claims_data(story)
    return {
        "claims": [c for c in found["claims"] if any(x["article"] == article.pk for x in c["citations"])],
        "conflicts": [
            k
            for k in found["conflicts"]
            if any(x["article"] == article.pk for v in k["versions"] for x in v["citations"])
        ],
    }
