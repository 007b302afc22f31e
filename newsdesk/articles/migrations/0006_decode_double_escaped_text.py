"""Decode, once, the character references that double-escaping publishers left in stored
headlines, descriptions and bylines ("Trump&#039;s" -> "Trump's").

New pages are decoded where their metadata is read (newsdesk/extract/escapes.py); this
gives the rows stored before that the same single pass (and a changed headline its new
content hash, so that the page read again is still recognised). It runs once, so text that holds
a reference after it (a publisher that escaped three times) is not decoded again.
"""

from django.db import migrations
from django.db.models import Q

from newsdesk.articles.store import content_hash
from newsdesk.extract.escapes import unescape_once

FIELDS = ("title", "description", "byline")


def decode(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    rows = Article.objects.using(schema_editor.connection.alias)
    escaped = Q()
    for name in FIELDS:
        escaped |= Q(**{f"{name}__contains": "&"})
    for row in rows.filter(escaped).only("pk", *FIELDS).iterator(chunk_size=500):
        clean = {name: unescape_once(getattr(row, name)) for name in FIELDS}
        if clean["title"] != row.title:  # the same page, read again, must match its row
            body = rows.filter(pk=row.pk).values_list("body_text", flat=True).get()
            clean["content_hash"] = content_hash(clean["title"], body)
        if any(clean[name] != getattr(row, name) for name in FIELDS):
            rows.filter(pk=row.pk).update(**clean)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_article_publisher_sections"),
    ]

    operations = [migrations.RunPython(decode, migrations.RunPython.noop)]
