"""Articles with their publisher and enrichment, in one plain query.

`Article.objects.select_related("source", "enrichment").in_bulk(ids)` gives the same
instances, but building and compiling that queryset cost more than running it (about
1 ms): on the article page, and in every briefing email. The SQL is written once here
and the rows are turned into instances by plain_rows, as the ORM would.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections

from newsdesk import plain_rows
from newsdesk.articles.models import Article, Enrichment
from newsdesk.sources.models import Source

_BODIES = ("body_html", "body_text")
_SOURCE_FIELDS = list(Source._meta.concrete_fields)


def with_publisher(ids: Sequence[int], *, bodies: bool = True, embedding: bool = True) -> dict[int, Article]:
    """Articles by id, publisher and enrichment (or None) attached; without `bodies` or
    `embedding` those fields are deferred (read on first use, as with `defer`)."""
    if not ids:
        return {}
    connection = connections[Article.objects.db]
    quote = connection.ops.quote_name
    article_fields = [f for f in Article._meta.concrete_fields if bodies or f.attname not in _BODIES]
    enrichment_fields = [f for f in Enrichment._meta.concrete_fields if embedding or f.attname != "embedding"]
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT {plain_rows.columns(connection, article_fields, 'a')},"
        f" {plain_rows.columns(connection, _SOURCE_FIELDS, 's')},"
        f" {plain_rows.columns(connection, enrichment_fields, 'e')}"
        f" FROM {quote(Article._meta.db_table)} a"
        f" INNER JOIN {quote(Source._meta.db_table)} s ON s.id = a.source_id"
        f" LEFT OUTER JOIN {quote(Enrichment._meta.db_table)} e ON e.article_id = a.id WHERE a.id IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        rows = cursor.fetchall()
    article_of = plain_rows.reader(connection, Article, article_fields)
    source_of = plain_rows.reader(connection, Source, _SOURCE_FIELDS)
    enrichment_of = plain_rows.reader(connection, Enrichment, enrichment_fields)
    first, second = len(article_fields), len(article_fields) + len(_SOURCE_FIELDS)
    enrichment_pk = second + enrichment_fields.index(Enrichment._meta.pk)
    found: dict[int, Article] = {}
    for row in rows:
        item = article_of(row[:first])
        plain_rows.attach(item, "source", source_of(row[first:second]))
        plain_rows.attach(item, "enrichment", enrichment_of(row[second:]) if row[enrichment_pk] is not None else None)
        found[item.pk] = item
    return found
