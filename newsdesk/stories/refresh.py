"""A story's headline, counts, hashtags and multi-source summary, from its members.

Recomputed whenever the membership changes, so that story lists read one table. The
summary takes sentences from the members' own summaries, preferring sentences that many
members agree on and a spread of publishers; each sentence keeps the id of the article
it comes from, so the page can cite it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from newsdesk.ai.sentences import split_sentences
from newsdesk.ai.terms import content_terms
from newsdesk.articles import revisions
from newsdesk.articles.models import Article, ArticleHashtag
from newsdesk.stories.models import NearDuplicate, Story, StoryMember
from newsdesk.stories.windows import effective_time

SUMMARY_SENTENCES = 3
HASHTAGS = 6


def refresh_stories(story_ids: Iterable[int]) -> None:
    for story in Story.objects.filter(pk__in=set(story_ids)):
        refresh(story)


def refresh(story: Story) -> Story:
    return write_refresh(story, compute_refresh(story))


def compute_refresh(story: Story) -> dict:
    """The story's record fields as its members make them, by reads alone: the story
    worker computes them outside its write transaction (on SQLite the database's one
    write lock) and writes them with `write_refresh`."""
    members = _members(story.pk)
    if not members:
        return {"article_count": 0, "publisher_count": 0, "country_count": 0}
    copies = set(NearDuplicate.objects.filter(article__in=members).values_list("article_id", flat=True))
    originals = [a for a in members if a.pk not in copies] or members
    title, representative = _headline(originals)
    # Effective times: a member dated 9999 must not keep the story "fresh" for ever.
    seen = [effective_time(a.published_at, a.created_at) for a in members]
    return {
        "title": title,
        "representative": representative,
        "first_seen": min(seen),
        "last_seen": max(seen),
        "article_count": len(members),
        "publisher_count": len({a.source_id for a in members}),
        "country_count": len({a.source.country for a in members if a.source.country}),
        "hashtags": _hashtags(members),
        "summary": _summary(originals),
    }


def write_refresh(story: Story, fields: dict) -> Story:
    """Store what `compute_refresh` found: a story left without members keeps its other
    fields and only its counts drop to zero."""
    if "title" not in fields:
        Story.objects.filter(pk=story.pk).update(**fields, updated_at=timezone.now())
        return story
    for name, value in fields.items():
        setattr(story, name, value)
    story.updated_at = timezone.now()
    story.save(update_fields=[*fields, "updated_at"])  # nothing else: a moderator may hold the rest
    return story


def member_ids(story_id: int) -> list[int]:
    """The story's member article ids, in the order `compute_refresh` reads them: what a
    computed record depends on, to check it is still current before writing it."""
    return list(
        StoryMember.objects.filter(story_id=story_id)
        .order_by("article__published_at", "article_id")
        .values_list("article_id", flat=True)
    )


def _members(story_id: int) -> list[Article]:
    return list(
        Article.objects.filter(story_member__story_id=story_id)
        .select_related("source", "enrichment")
        .order_by("published_at", "pk")
    )


def _headline(articles: list[Article]) -> tuple[str, Article]:
    """The member headline that shares the most words with the others: the most typical
    wording, not the first or the most sensational one."""
    terms = [set(content_terms(a.title, a.language or "en")) for a in articles]
    counts = Counter(t for ts in terms for t in ts)

    def typical(i: int) -> float:
        ts = terms[i]
        return sum(counts[t] - 1 for t in ts) / (len(ts) ** 0.5 or 1.0)

    best = max(range(len(articles)), key=lambda i: (typical(i), -i))
    return articles[best].title, articles[best]


def _hashtags(articles: list[Article]) -> list[str]:
    rows = (
        ArticleHashtag.objects.filter(article__in=articles)
        .values("hashtag__slug")
        .annotate(n=Count("article", distinct=True))
        .order_by("-n", "hashtag__slug")[:HASHTAGS]
    )
    return [row["hashtag__slug"] for row in rows]


def _summary(articles: list[Article]) -> list[dict]:
    """Up to three summary sentences, each from a different publisher where possible,
    chosen by how much of the story's shared vocabulary they carry."""
    candidates: list[tuple[str, Article, set[str]]] = []
    for article in articles:
        enrichment = getattr(article, "enrichment", None)
        if enrichment is None:
            continue
        if revisions.enrichment_is_stale(article, enrichment.enriched_at):
            # Updated since its summary was made: only what its newest text still says.
            texts = revisions.still_said(enrichment.summary, article.body_text)[:2]
        else:
            sentences = split_sentences(article.body_text)
            texts = [sentences[i].text for i in enrichment.summary_sentences[:2] if i < len(sentences)]
        for text in texts:
            candidates.append((text, article, set(content_terms(text, article.language or "en"))))
    if not candidates:
        return []
    weight = Counter(t for _, _, ts in candidates for t in ts)
    chosen: list[tuple[str, Article, set[str]]] = []
    used_sources: set[int] = set()
    while candidates and len(chosen) < SUMMARY_SENTENCES:

        def score(c: tuple[str, Article, set[str]]) -> float:
            text, article, ts = c
            if not ts:
                return -1.0
            centrality = sum(weight[t] for t in ts) / len(ts) ** 0.7
            repeat = max((len(ts & o) / len(ts) for _, _, o in chosen), default=0.0)
            fresh_source = 1.0 if article.source_id not in used_sources else 0.6
            return centrality * fresh_source * (1.0 - repeat)

        best = max(candidates, key=score)
        if score(best) <= 0:
            break
        chosen.append(best)
        used_sources.add(best[1].source_id)
        candidates.remove(best)
    return [{"text": text, "article": article.pk} for text, article, _ in chosen]


def story_of(article: Article) -> Story | None:
    member = StoryMember.objects.filter(article=article).select_related("story").first()
    return member.story if member else None
