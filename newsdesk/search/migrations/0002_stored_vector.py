"""PostgreSQL: the search vector as a stored generated column with a GIN index, instead of
a GIN index on the expression (see schema.py). Nothing changes on SQLite.

ADD COLUMN ... STORED rewrites the articles table and parses every article once, under
an exclusive lock: at a million articles about 12 minutes, and the GIN index a few more.
"""

from django.db import migrations

from newsdesk.search import schema
from newsdesk.search.operations import RunSQLOn


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_article_index"),
    ]

    operations = [
        RunSQLOn("postgresql", schema.POSTGRES_DOCUMENT, schema.POSTGRES_DOCUMENT_REVERSE),
    ]
