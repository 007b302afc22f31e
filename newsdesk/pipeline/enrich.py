"""The AI stage for stored articles: embedding, hashtags, summary, key points, section.

Runs as a task after articles are stored (in batches, so the embedding model works on
many texts at once). The features are the enrichers of `newsdesk.pipeline.enrichers`,
built-ins (below, registered by the pipeline app) and add-ons alike; this module runs
them and writes each article's results in one transaction with the method versions
that produced them; `newsdesk reprocess` redoes what is out of date.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from newsdesk.ai import embeddings, gazetteer, hashtags, llm, sections, summary
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag, HashtagAlias, to_blob
from newsdesk.language import text_language
from newsdesk.pipeline import enrichers
from newsdesk.pipeline.enrichers import Context, Enricher

log = logging.getLogger(__name__)
BATCH = 32  # articles analysed together (the embedding model works on many at once)
WRITE_GROUP = 4  # articles written per transaction: 10-20 ms of SQLite's write lock here


def method_versions() -> dict[str, str]:
    """What produced an enrichment, each registered enricher's method version by name; a
    change here makes `reprocess` redo it."""
    return {e.name: e.version() for e in enrichers.enrichers() if e.version is not None}


def warm_up() -> None:
    """Load the model (unless a shared embedder has it), word lists and gazetteer now
    rather than in the first task. An embedder that does not answer yet is no reason
    not to start: the first task waits for it instead."""
    embeddings.warm_up()
    for enricher in enrichers.enrichers():
        if enricher.warm_up is not None:
            try:
                enricher.warm_up()
            except embeddings.EmbedderUnavailable as error:
                log.warning("warm-up of %s skipped: %s", enricher.name, error)


def embedding_text(article: Article) -> str:
    return f"{article.title}\n\n{article.body_text or article.description}"


class KnownAliases(Mapping[str, str]):
    """Alias key -> hashtag slug, looked up in the database as the extractor asks."""

    def __init__(self) -> None:
        self._cache: dict[str, str | None] = {}

    def _lookup(self, key: str) -> str | None:
        if key not in self._cache:
            self._cache[key] = HashtagAlias.objects.filter(key=key).values_list("hashtag__slug", flat=True).first()
        return self._cache[key]

    def __getitem__(self, key: str) -> str:
        slug = self._lookup(key)
        if slug is None:
            raise KeyError(key)
        return slug

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def remember(self, tags: Iterable[hashtags.Tag]) -> None:
        """Know the aliases these tags are about to store, so that a later article of the
        same batch joins them as it would once they are in the database (where a key
        already taken keeps its tag)."""
        for tag in tags:
            for key in _alias_keys(tag):
                if self._lookup(key) is None:
                    self._cache[key] = tag.slug

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, v in self._cache.items() if v is not None])

    def __len__(self) -> int:
        return sum(v is not None for v in self._cache.values())


def enrich_articles(article_ids: Iterable[int]) -> int:
    """Enrich the given articles; returns how many were written.

    A batch is analysed first and then written WRITE_GROUP articles per transaction, a
    savepoint per article, their hashtags in one set of queries: Django's cost per query,
    more than the database's, was most of the write time, so workers sharing SQLite meet
    on its write lock once per group instead of once per article; and a group, unlike the
    whole batch, holds that lock (every comment and login waits for it) briefly.

    The registered enrichers are taken once per call, so that every article of it is
    analysed and stored by the same ones.
    """
    steps = enrichers.enrichers()
    articles = list(Article.objects.filter(pk__in=list(article_ids)).order_by("pk"))
    written = 0
    for start in range(0, len(articles), BATCH):
        batch = articles[start : start + BATCH]
        vectors = embeddings.embed([embedding_text(a) for a in batch])
        known = KnownAliases()  # one per batch: it also knows the aliases the batch adds
        analysed = []
        for article, vector in zip(batch, vectors, strict=True):
            try:
                analysis = _analyse(article, vector, known, steps)
            except embeddings.EmbedderUnavailable:
                raise  # not this article's fault: the task fails and is retried whole
            except Exception:  # one bad article must not cost the batch its enrichment
                log.exception("enrichment of article %s failed", article.pk)
                continue
            analysed.append((article, vector, analysis))
        for at in range(0, len(analysed), WRITE_GROUP):
            written += _write_batch(analysed[at : at + WRITE_GROUP])
    return written


@dataclass(frozen=True)
class Analysis:
    """What the enrichers found in one article, before anything is stored: each enricher
    with its result, in their order."""

    found: tuple[tuple[Enricher[Any], Any], ...]


def _analyse(article: Article, vector: np.ndarray, known: KnownAliases, steps: list[Enricher[Any]]) -> Analysis:
    """Run every enricher on the article; only when all have succeeded do they remember
    anything for the rest of the batch (a failed article stores nothing)."""
    context = Context(text=article.body_text or article.description, vector=vector, known=known)
    for enricher in steps:
        context.results[enricher.name] = enricher.analyse(article, context)
    for enricher in steps:
        if enricher.remember is not None:
            enricher.remember(context.results[enricher.name], context)
    return Analysis(tuple((enricher, context.results[enricher.name]) for enricher in steps))


def _write_batch(analysed: list[tuple[Article, np.ndarray, Analysis]]) -> int:
    """Store a group's enrichments, then its group writes (all their hashtags at once);
    returns how many were stored. An article whose enrichment cannot be written loses
    only its own savepoint; a group that cannot be written at all (the database locked
    past its timeout) is logged and left unenriched, and the scheduler's pass queues its
    articles again.
    Writing a batch group by group stores what one transaction would: alias uses are
    increments, a key already taken keeps its first tag, and counts are recounted."""
    stored: list[tuple[Article, Analysis]] = []
    try:
        with transaction.atomic():
            for article, vector, analysis in analysed:
                try:
                    with transaction.atomic():
                        _store(article, vector, analysis)
                except Exception:
                    log.exception("storing the enrichment of article %s failed", article.pk)
                    continue
                stored.append((article, analysis))
            _store_groups(stored)
    except Exception:
        log.exception("storing a group of %d enrichments failed", len(analysed))
        return 0
    return len(stored)


def _store(article: Article, vector: np.ndarray, analysis: Analysis) -> None:
    """One article's Enrichment row, from the fields its enrichers set and the stage's
    own (the article's date for the section index, the methods, the time), then what
    each enricher stores elsewhere. (`vector` is stored by the embedding enricher.)"""
    defaults: dict[str, Any] = {}
    for enricher, result in analysis.found:
        if enricher.fields is not None:
            defaults.update(enricher.fields(article, result))
    defaults.update(
        published_at=article.published_at,
        methods={e.name: e.version() for e, _ in analysis.found if e.version is not None},
        enriched_at=timezone.now(),
    )
    Enrichment.objects.update_or_create(article=article, defaults=defaults)
    for enricher, result in analysis.found:
        if enricher.store is not None:
            enricher.store(article, result)


def _store_groups(stored: list[tuple[Article, Analysis]]) -> None:
    """Each enricher's group writer, once, with the results of the articles stored."""
    groups: dict[str, tuple[Callable[[list[tuple[Article, Any]]], None], list[tuple[Article, Any]]]] = {}
    for article, analysis in stored:
        for enricher, result in analysis.found:
            if enricher.store_group is not None:
                groups.setdefault(enricher.name, (enricher.store_group, []))[1].append((article, result))
    for store_group, results in groups.values():
        store_group(results)


def outdated_articles() -> Iterator[int]:
    """Articles never enriched, or enriched by a method that has changed since."""
    current = method_versions()
    yield from Article.objects.filter(enrichment__isnull=True).values_list("pk", flat=True).iterator()
    for pk, methods in Enrichment.objects.values_list("article_id", "methods").iterator():
        if methods != current:
            yield pk


def unenriched_since(start: datetime, end: datetime) -> list[int]:
    """Articles stored in [start, end) that have no enrichment: their task was lost."""
    return list(
        Article.objects.filter(enrichment__isnull=True, created_at__gte=start, created_at__lt=end).values_list(
            "pk", flat=True
        )[:1000]
    )


# --- The built-in enrichers ---------------------------------------------------------
# Registered by PipelineConfig.ready in this order, which is also the order of the keys
# of Enrichment.methods: {"embedding", "hashtags", "summary", "sections"}, as stored
# before enrichers were registered, so that no stored article looks outdated. Versions
# are read when asked for (the embedding's depends on the settings).


def _embedding_version() -> str:
    return f"{embeddings.model_name()}@{embeddings.max_tokens()}"


def _embedding_fields(article: Article, vector: np.ndarray) -> dict[str, Any]:
    return {"embedding": to_blob(vector), "model": embeddings.model_name()}


EMBEDDING: Enricher[np.ndarray] = Enricher(
    name="embedding",
    analyse=lambda article, context: context.vector,  # computed for the whole batch
    version=_embedding_version,
    fields=_embedding_fields,
)


def _tags(article: Article, context: Context) -> list[hashtags.Tag]:
    return hashtags.extract_tags(article.title, context.text, language=article.language or "en", known=context.known)


def _store_tags(tagged: list[tuple[Article, list[hashtags.Tag]]]) -> None:
    """Replace the hashtags of a batch of articles in a handful of queries, whatever the
    article and tag counts (per-article queries cost more in Django than in SQLite)."""
    if not tagged:
        return
    article_ids = [article.pk for article, _ in tagged]
    previous = set(ArticleHashtag.objects.filter(article_id__in=article_ids).values_list("hashtag_id", flat=True))
    ArticleHashtag.objects.filter(article_id__in=article_ids).delete()
    per_article = [(article, {t.slug: t for t in tags}) for article, tags in tagged]
    named: dict[str, hashtags.Tag] = {}
    for _, by_slug in per_article:
        for slug, tag in by_slug.items():
            named.setdefault(slug, tag)
    Hashtag.objects.bulk_create(
        [Hashtag(slug=t.slug, name=t.name, kind=t.kind) for t in named.values()], ignore_conflicts=True
    )
    ids = dict(Hashtag.objects.filter(slug__in=named).values_list("slug", "pk"))
    ArticleHashtag.objects.bulk_create(
        ArticleHashtag(
            article=article,
            hashtag_id=ids[t.slug],
            score=t.score,
            mentions=t.mentions,
            position=position,
            published_at=article.published_at,
        )
        for article, by_slug in per_article
        for position, t in enumerate(by_slug.values())
    )
    # Each article adds a use to each of its alias keys; a key already naming another tag
    # keeps that tag and gets no use from this one.
    uses: Counter[tuple[str, int]] = Counter()
    for _, by_slug in per_article:
        uses.update({key[:200]: ids[t.slug] for t in by_slug.values() for key in _alias_keys(t)}.items())
    HashtagAlias.objects.bulk_create(
        [HashtagAlias(key=key, hashtag_id=pk, uses=0) for key, pk in uses], ignore_conflicts=True
    )
    rows_by_increment: dict[int, list[int]] = defaultdict(list)
    for row, key, pk in HashtagAlias.objects.filter(key__in={key for key, _ in uses}).values_list(
        "pk", "key", "hashtag_id"
    ):
        if (key, pk) in uses:
            rows_by_increment[uses[key, pk]].append(row)
    for increment, rows in rows_by_increment.items():
        HashtagAlias.objects.filter(pk__in=rows).update(uses=F("uses") + increment)
    counts = ArticleHashtag.objects.filter(hashtag=OuterRef("pk")).values("hashtag").annotate(n=Count("pk")).values("n")
    Hashtag.objects.filter(pk__in=previous | set(ids.values())).update(article_count=Coalesce(Subquery(counts), 0))


def _alias_keys(tag: hashtags.Tag) -> set[str]:
    """The keys under which later articles should find this tag.

    A surname alone ("Jordan" for Michael Jordan) is remembered only when it does not
    also name a place, so that a later article about the country keeps its own tag.
    """
    keys = {hashtags.alias_key(tag.name)}
    for surface in tag.aliases:
        if tag.kind != Hashtag.Kind.PLACE and gazetteer.lookup(surface) is not None:
            continue
        keys.add(hashtags.alias_key(surface))
    return {key for key in keys if key}


HASHTAGS: Enricher[list[hashtags.Tag]] = Enricher(
    name="hashtags",
    analyse=_tags,
    version=lambda: hashtags.VERSION,
    store_group=_store_tags,
    remember=lambda tags, context: context.known.remember(tags),
    warm_up=lambda: hashtags.warm_up(),
)


def _llm_summary(article: Article, digest: summary.Digest) -> str:
    config = llm.config_from_env()
    if config is None:
        return ""
    from newsdesk.ai.sentences import split_sentences

    sentences = split_sentences(article.body_text)
    chosen = [sentences[i].text for i in digest.summary_sentences if i < len(sentences)]
    client = llm.LLMClient(config)
    try:
        return llm.rewrite_summary(client, article.title, chosen) or ""
    finally:
        client.close()


@dataclass(frozen=True)
class Summarised:
    digest: summary.Digest
    llm_summary: str  # the optional LLM rewording of the summary sentences, or ""


def _summarise(article: Article, context: Context) -> Summarised:
    digest = summary.summarize(article.title, context.text, language=article.language or "en")
    return Summarised(digest, _llm_summary(article, digest) if digest.summary_sentences else "")


def _summary_fields(article: Article, found: Summarised) -> dict[str, Any]:
    digest = found.digest
    return {
        "summary": digest.summary,
        "summary_sentences": list(digest.summary_sentences),
        "key_points": [{"text": p.text, "sentences": list(p.sentences)} for p in digest.key_points],
        "llm_summary": found.llm_summary,
    }


SUMMARY: Enricher[Summarised] = Enricher(
    name="summary", analyse=_summarise, version=lambda: summary.VERSION, fields=_summary_fields
)


def _section(article: Article, context: Context) -> sections.SectionGuess:
    return sections.classify(
        article.title, context.text, vector=context.vector, publisher=article.publisher_sections, url=article.url
    )


def _section_fields(article: Article, guess: sections.SectionGuess) -> dict[str, Any]:
    return {"section": guess.section, "section_confidence": round(guess.confidence, 4)}


def _warm_up_sections() -> None:
    sections.classify("warm up", "warm up", vector=embeddings.embed(["warm up"])[0])


SECTIONS: Enricher[sections.SectionGuess] = Enricher(
    name="sections",
    analyse=_section,
    version=lambda: sections.VERSION,
    fields=_section_fields,
    warm_up=_warm_up_sections,
)


def _language(article: Article, context: Context) -> str:
    return article.language or text_language(f"{article.title}\n{context.text}")


def _store_language(article: Article, language: str) -> None:
    if language != article.language:
        Article.objects.filter(pk=article.pk).update(language=language)


# No version: the language is the article's own, or guessed when it has none, and no
# method of that was ever recorded in Enrichment.methods.
LANGUAGE: Enricher[str] = Enricher(name="language", analyse=_language, store=_store_language)
