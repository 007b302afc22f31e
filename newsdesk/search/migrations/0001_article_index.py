"""The full-text index of articles: FTS5 on SQLite, a GIN expression index on PostgreSQL.

Each operation runs on its own database only; see newsdesk/search/schema.py.
"""

from django.db import migrations

from newsdesk.search import schema
from newsdesk.search.operations import RunSQLOn


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_enrichment"),
    ]

    operations = [
        RunSQLOn("sqlite", schema.SQLITE_CREATE, schema.SQLITE_DROP),
        RunSQLOn("postgresql", schema.POSTGRES_CREATE, schema.POSTGRES_DROP),
    ]
