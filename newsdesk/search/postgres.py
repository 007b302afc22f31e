"""Search on PostgreSQL with its own full-text search (the index is in schema.py).

Each article is indexed with the text search configuration of its own language
(stemming English as English, German as German). A reader's words are not in any one
language, so the query is the reader's terms parsed with each configuration in use,
OR-ed: an English article matches the English stems, a German one the German stems. The
configurations in use are those of the sources' languages plus the simple one, or only
the filtered language's.

The ranking blend is the same as on SQLite (see backends.py), with ts_rank weighting
the headline (A) over the description (B) and the body (C).
"""

from __future__ import annotations

from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Extract, Now, NullIf, Power

from newsdesk.articles.models import Article
from newsdesk.search import highlight
from newsdesk.search.backends import (
    FRESHNESS_WEIGHT,
    HALF_LIFE_DAYS,
    Hit,
    SearchFilters,
    time_bounds,
)
from newsdesk.search.query import Query
from newsdesk.search.schema import POSTGRES_CONFIGS, POSTGRES_SIMPLE, postgres_config
from newsdesk.sources.models import Source

# ts_rank weights for D, C, B, A (unused, body, description, headline).
RANK_WEIGHTS = [0.05, 0.2, 0.4, 1.0]
SNIPPET_WORDS = (15, 35)


def _vector() -> Func:
    """The indexed expression, spelled exactly as the GIN index spells it."""
    return Func(
        F("language"),
        F("title"),
        F("description"),
        F("body_text"),
        function="newsdesk_search_vector",
        output_field=SearchVectorField(),
    )


def config_for(language: str) -> str:
    """Mirrors the SQL function newsdesk_search_config."""
    return postgres_config(POSTGRES_CONFIGS.get(language.lower().split("-")[0], POSTGRES_SIMPLE))


def _configs(filters: SearchFilters, using: str) -> list[str]:
    if filters.language:
        return [config_for(filters.language)]
    languages = Source.objects.using(using).values_list("language", flat=True).distinct()
    return sorted(
        {postgres_config(POSTGRES_SIMPLE), *(config_for(language) for language in languages)}
    )


def tsquery(query: Query, configs: list[str]):
    """(all included terms AND NOT any excluded term), parsed with each config, OR-ed."""

    def parsed(config: str):
        def term(words: tuple[str, ...]) -> SearchQuery:
            return SearchQuery(" ".join(words), search_type="phrase", config=config)

        included = reduce(and_, (term(t.words) for t in query.included))
        return reduce(and_, (~term(t.words) for t in query.excluded), included)

    return reduce(or_, (parsed(config) for config in configs))


def _filtered(articles: QuerySet, filters: SearchFilters) -> QuerySet:
    if filters.source:
        articles = articles.filter(source__slug=filters.source)
    if filters.section:
        articles = articles.filter(enrichment__section=filters.section)
    if filters.hashtag:
        articles = articles.filter(article_hashtags__hashtag__slug=filters.hashtag)
    if filters.language:
        language = filters.language.lower()
        articles = articles.filter(
            Q(language__iexact=language) | Q(language__istartswith=language + "-")
        )
    start, end = time_bounds(filters)
    if start:
        articles = articles.filter(published_at__gte=start)
    if end:
        articles = articles.filter(published_at__lt=end)
    return articles


class PostgresBackend:
    def __init__(self, using: str = "default") -> None:
        self.using = using

    def search(
        self, query: Query, filters: SearchFilters, *, offset: int, limit: int
    ) -> tuple[list[Hit], int]:
        search_query = tsquery(query, _configs(filters, self.using))
        matches = _filtered(
            Article.objects.using(self.using)
            .annotate(document=_vector())
            .filter(document=search_query),
            filters,
        )
        total = matches.count()
        if not total or offset >= total:
            return [], total
        age = ExpressionWrapper(Now() - F("published_at"), output_field=DurationField())
        age_days = Cast(Extract(age, "epoch"), FloatField()) / Value(86400.0)
        freshness = Value(1.0) + Value(FRESHNESS_WEIGHT) * Power(
            Value(0.5), Func(age_days, Value(0.0), function="GREATEST") / Value(HALF_LIFE_DAYS)
        )
        rows = list(
            matches.annotate(
                score=SearchRank(_vector(), search_query, weights=RANK_WEIGHTS) * freshness
            )
            .order_by("-score", "-published_at", "-id")
            .values_list("id", "score")[offset : offset + limit]
        )
        snippets = self._snippets(search_query, [article_id for article_id, _ in rows])
        return [
            Hit(article_id, float(score), snippets.get(article_id, ""))
            for article_id, score in rows
        ], total

    def _snippets(self, search_query, ids: list[int]) -> dict[int, str]:
        text = Coalesce(NullIf(F("body_text"), Value("")), F("description"))
        headlines = (
            Article.objects.using(self.using)
            .filter(id__in=ids)
            .annotate(
                snippet=SearchHeadline(
                    text,
                    search_query,
                    config=Func(F("language"), function="newsdesk_search_config"),
                    start_sel=highlight.OPEN,
                    stop_sel=highlight.CLOSE,
                    min_words=SNIPPET_WORDS[0],
                    max_words=SNIPPET_WORDS[1],
                )
            )
            .values_list("id", "snippet")
        )
        return {article_id: highlight.to_html(snippet) for article_id, snippet in headlines}
