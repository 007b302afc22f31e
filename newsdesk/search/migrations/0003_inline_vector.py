"""PostgreSQL: search vectors kept in the article rows (see schema.POSTGRES_INLINE_VECTOR).
Nothing changes on SQLite. Only the column's storage setting changes: no table rewrite."""

from django.db import migrations

from newsdesk.search import schema
from newsdesk.search.operations import RunSQLOn


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_stored_vector"),
    ]

    operations = [
        RunSQLOn("postgresql", schema.POSTGRES_INLINE_VECTOR, schema.POSTGRES_INLINE_VECTOR_REVERSE),
    ]
