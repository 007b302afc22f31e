"""Model instances from plain SQL rows, built as the ORM builds them.

On the article page, building and compiling a queryset (joins, select_related,
defer) cost several times more than running its query: about 0.3 ms each, a few of
them per page. Where a page reads a fixed shape of rows, the SQL is written once and
the rows are turned into instances here: the same converters the ORM applies (aware
datetimes from SQLite's text, JSON decoding) and `Model.from_db`, so the instances
are the ones the queryset would have given (fields left out are deferred).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

__all__ = ["attach", "columns", "converter", "first", "instance", "reader"]


def columns(connection: BaseDatabaseWrapper, fields: list[Field], alias: str) -> str:
    """`alias.column, ...` for a SELECT list."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in fields)


def _converters(connection: BaseDatabaseWrapper, fields: list[Field]) -> list[tuple[list, object]]:
    """Per field, what the ORM applies to the value read and the column it reads. The
    same for every query on one connection, so worked out once and kept on the
    connection (one per thread: bound to its own backend, never shared)."""
    known = connection.__dict__.setdefault("_newsdesk_converters", {})
    key = tuple((f.model._meta.label, f.attname) for f in fields)
    found = known.get(key)
    if found is None:
        found = []
        for f in fields:
            column = f.get_col(f.model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            found.append((functions, column))
        known[key] = found
    return found


def reader(
    connection: BaseDatabaseWrapper, model: type[Model], fields: list[Field]
) -> Callable[[Sequence[object]], Model]:
    """A function: the values of `fields` as read from one row -> an instance."""
    converters = _converters(connection, fields)
    names = [f.attname for f in fields]

    def build(values: Sequence[object]) -> Model:
        converted = []
        for value, (functions, column) in zip(values, converters):
            for function in functions:
                value = function(value, column, connection)
            converted.append(value)
        return model.from_db(connection.alias, names, converted)

    return build


def converter(connection: BaseDatabaseWrapper, field: Field) -> Callable[[object], object]:
    """A function: one value of `field` as read from a row -> the value the ORM gives."""
    ((functions, column),) = _converters(connection, [field])

    def convert(value: object) -> object:
        for function in functions:
            value = function(value, column, connection)
        return value

    return convert


def instance(
    connection: BaseDatabaseWrapper, model: type[Model], fields: list[Field], values: Sequence[object]
) -> Model:
    return reader(connection, model, fields)(values)


def attach(instance_: Model, name: str, related: Model | None) -> None:
    """What select_related(name) leaves on `instance_`: the related object (or None
    for a missing reverse one-to-one) cached, and the reverse side too when one-to-one."""
    field = instance_._meta.get_field(name)
    if field.is_relation and field.concrete:  # a foreign key or one-to-one on this model
        field.set_cached_value(instance_, related)
        if related is not None and field.one_to_one:
            field.remote_field.set_cached_value(related, instance_)
    else:  # the reverse side of a one-to-one
        field.set_cached_value(instance_, related)
        if related is not None:
            field.field.set_cached_value(related, instance_)


def first(model: type[Model], names: Sequence[str], **equal: object) -> Model | None:
    """The first row of `model` whose fields equal `equal` (by field name), as an instance
    with only the fields `names` read; for the one-row reads of every signed-in request
    (the session, the reader's visit, their interest in a listing)."""
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if f.name in names]
    where = " AND ".join(f"t.{quote(model._meta.get_field(name).column)} = %s" for name in equal)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(connection, fields, 't')} FROM {quote(model._meta.db_table)} t WHERE {where} LIMIT 1",
            list(equal.values()),
        )
        row = cursor.fetchone()
    return None if row is None else reader(connection, model, fields)(row)
