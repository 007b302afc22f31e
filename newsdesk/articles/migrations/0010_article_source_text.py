"""The text's hash indexed within its publisher, where the store looks it up.

The store asks for an article of this publisher with this hash. With the hash indexed
alone, SQLite's planner (it keeps no statistics) walked the publisher's articles by
date: 6-10 ms for each new article of a publisher with 3,000-3,900, inside the write
transaction, and growing with the archive. The single-column index
had no other reader, so it goes: dropped by name rather than by altering the field,
which on SQLite would copy the whole articles table. Django names it the same on both
databases; PostgreSQL also made a `_like` twin for pattern matching.
"""

from django.db import migrations, models

OLD_INDEX = "articles_article_content_hash_19e034a5"


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_article_times"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["source", "content_hash"], name="article_source_text"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="article",
                    name="content_hash",
                    field=models.CharField(max_length=40),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[f'DROP INDEX IF EXISTS "{OLD_INDEX}"', f'DROP INDEX IF EXISTS "{OLD_INDEX}_like"'],
                    reverse_sql=[f'CREATE INDEX "{OLD_INDEX}" ON "articles_article" ("content_hash")'],
                ),
            ],
        ),
    ]
