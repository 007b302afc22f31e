"""Who else published an article's text: the copies the stories app records.

Near-duplicate folding (newsdesk/stories/folding.py) records each copy of a text (a
wire story on several sites, one page in two feeds) as a NearDuplicate pointing at the
first article seen, its original. Every listing shows a text once and names its other
publishers ("also published by"); the listings live in layers that may not import the
stories app (search sits beside it), so the records are read here through Django's app
registry, and without the stories app an article simply has no copies.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.apps import apps
from django.db import connections
from django.db.models import Model, Q

from newsdesk.articles.models import Article
from newsdesk.sources.models import Source

__all__ = ["also_published_by", "originals"]

BATCH = 500  # ids per query, well under every database's limit on parameters


def _records() -> type[Model] | None:
    try:
        return apps.get_model("stories", "NearDuplicate")
    except LookupError:
        return None


def originals(ids: Sequence[int], using: str = "default") -> dict[int, int]:
    """{copy id: its original's id} for the copies among `ids`.

    Search asks this of its 1,100 candidates on every query: one statement with the ids
    as one parameter (a JSON array on SQLite, an array on PostgreSQL), not the ORM's
    IN lists of 500, which cost five milliseconds a search."""
    records = _records()
    if records is None or not ids:
        return {}
    connection = connections[using]
    table = connection.ops.quote_name(records._meta.db_table)
    param: list[int] | str
    if connection.vendor == "postgresql":
        where, param = "article_id = ANY(%s)", list(ids)
    elif connection.vendor == "sqlite":
        where, param = "article_id IN (SELECT value FROM json_each(%s))", json.dumps(list(ids))
    else:
        found: dict[int, int] = {}
        for start in range(0, len(ids), BATCH):
            rows = records._default_manager.using(using).filter(article_id__in=list(ids[start : start + BATCH]))
            found.update(rows.values_list("article_id", "original_id"))
        return found
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT article_id, original_id FROM {table} WHERE {where}", [param])
        return dict(cursor.fetchall())


def also_published_by(articles: Iterable[Article]) -> list[Article]:
    """The articles, each given `also_published_by`: the other publishers of its text
    (its original's and its copies' sources but its own), by name. One query, and one
    more for the publishers when any of the texts has a copy."""
    items = list(articles)
    root_of = {item.pk: item.pk for item in items}
    sources_of: dict[int, set[int]] = defaultdict(set)
    records = _records()
    if records is not None and items:
        for copy, original, copy_source, original_source in _copy_rows(records, list(root_of)):
            if copy in root_of:
                root_of[copy] = original
            sources_of[original].update((copy_source, original_source))
    known = Source.objects.in_bulk({pk for found in sources_of.values() for pk in found}) if sources_of else {}
    for item in items:
        others = sources_of.get(root_of[item.pk], set()) - {item.source_id}
        item.also_published_by = sorted(  # read by the listings (Django models take any attribute)
            (known[pk] for pk in others if pk in known), key=lambda source: source.name.lower()
        )
    return items


def _copy_rows(records: type[Model], ids: list[int]) -> Iterable[tuple[int, int, int, int]]:
    """(copy, original, copy's source, original's source) of every copy of the texts of
    `ids`. One plain statement with the ids as one parameter, as in `originals`: the
    ORM's version of it cost a search page 1 ms to build, more than running it."""
    manager = records._default_manager
    connection = connections[manager.db]
    param: list[int] | str
    if connection.vendor == "postgresql":
        among, param = "= ANY(%s)", ids
    elif connection.vendor == "sqlite":
        among, param = "IN (SELECT value FROM json_each(%s))", json.dumps(ids)
    else:
        originals_of_copies = manager.filter(article_id__in=ids).values("original_id")
        return manager.filter(Q(original_id__in=ids) | Q(original_id__in=originals_of_copies)).values_list(
            "article_id", "original_id", "article__source_id", "original__source_id"
        )
    quote = connection.ops.quote_name
    table, articles = quote(records._meta.db_table), quote(Article._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.article_id, d.original_id, a.source_id, o.source_id FROM {table} d"
            f" INNER JOIN {articles} a ON a.id = d.article_id INNER JOIN {articles} o ON o.id = d.original_id"
            f" WHERE d.original_id {among} OR d.original_id IN (SELECT original_id FROM {table} WHERE article_id {among})",
            [param, param],
        )
        return cursor.fetchall()
