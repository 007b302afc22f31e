"""A few sentences from several publishers, each citing the article it comes from.

The same choice as a story's "summary from several sources" (newsdesk/stories/refresh.py):
candidates are the first two summary sentences of each article (the enrichment's
`summary_sentences`, indexes into the article's own sentences), the best carry most of
the shared vocabulary, a publisher already quoted counts for less and a sentence that
repeats one already chosen for nothing. It runs on any set of articles: a story's
coverage newer than a reader's last visit, for the personal briefing.

An article's candidates are kept per process (keyed by its id and last update): the
same new coverage is summarised for every reader who follows the story.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from newsdesk.ai.sentences import split_sentences
from newsdesk.ai.terms import content_terms
from newsdesk.articles.models import Article

PER_ARTICLE = 2
CACHE_SIZE = 20_000
_cache: OrderedDict[tuple[int, str], list[tuple[str, frozenset[str]]]] = OrderedDict()


@dataclass(frozen=True)
class Cited:
    text: str
    article: int
    source: str  # the publisher's name
    source_slug: str
    title: str  # the article's headline

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "article": self.article,
            "source": self.source,
            "source_slug": self.source_slug,
            "title": self.title,
        }


def _key(article: Article) -> tuple[int, str]:
    return (article.pk, article.updated_at.isoformat() if article.updated_at else "")


def load_bodies(articles: Iterable[Article]) -> None:
    """Read, in one query, the bodies of those articles (loaded with the body deferred)
    whose candidates are not remembered yet: otherwise each is read on its own when
    `candidates` needs it, a query apiece (a third of a briefing email's CPU time at a
    million articles, before the cache fills)."""
    missing = [a for a in articles if _key(a) not in _cache and "body_text" in a.get_deferred_fields()]
    if not missing:
        return
    bodies = dict(Article.objects.filter(pk__in=[a.pk for a in missing]).values_list("pk", "body_text"))
    for article in missing:
        article.body_text = bodies.get(article.pk, "")


def candidates(article: Article) -> list[tuple[str, frozenset[str]]]:
    """The article's first summary sentences with their content terms. Its body is read
    only when they are not remembered yet (callers may defer it; `load_bodies` reads many
    at once)."""
    key = _key(article)
    if (found := _cache.get(key)) is not None:
        _cache.move_to_end(key)
        return found
    enrichment = getattr(article, "enrichment", None)
    found = []
    if enrichment is not None and enrichment.summary_sentences and article.body_text:
        sentences = split_sentences(article.body_text)
        for index in enrichment.summary_sentences[:PER_ARTICLE]:
            if 0 <= index < len(sentences):
                text = sentences[index].text
                found.append((text, frozenset(content_terms(text, article.language or "en"))))
    _cache[key] = found
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return found


def choose(articles: Iterable[Article], limit: int = 3) -> list[Cited]:
    """Up to `limit` sentences, from different publishers where possible. Articles need
    their source and enrichment loaded."""
    pool: list[tuple[str, Article, frozenset[str]]] = [
        (text, article, terms) for article in articles for text, terms in candidates(article)
    ]
    if not pool:
        return []
    weight = Counter(t for _, _, terms in pool for t in terms)
    chosen: list[tuple[str, Article, frozenset[str]]] = []
    quoted: set[int] = set()

    def score(item: tuple[str, Article, frozenset[str]]) -> float:
        _, article, terms = item
        if not terms:
            return -1.0
        centrality = sum(weight[t] for t in terms) / len(terms) ** 0.7
        repeat = max((len(terms & other) / len(terms) for _, _, other in chosen), default=0.0)
        fresh = 1.0 if article.source_id not in quoted else 0.6
        return centrality * fresh * (1.0 - repeat)

    while pool and len(chosen) < limit:
        best = max(pool, key=score)
        if score(best) <= 0:
            break
        chosen.append(best)
        quoted.add(best[1].source_id)
        pool.remove(best)
    return [Cited(text, a.pk, a.source.name, a.source.slug, a.title) for text, a, _ in chosen]
