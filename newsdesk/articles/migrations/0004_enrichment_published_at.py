"""Enrichment.published_at, copied from each article, and the (section, published_at)
index that search walks for a section's newest articles."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_dates(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Enrichment = apps.get_model("articles", "Enrichment")
    Enrichment.objects.using(schema_editor.connection.alias).update(
        published_at=Subquery(Article.objects.filter(pk=OuterRef("article_id")).values("published_at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_enrichment"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrichment",
            name="published_at",
            # Any date for the moment of adding the column: copy_dates sets the real ones.
            field=models.DateTimeField(default="2000-01-01T00:00:00Z"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_dates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="enrichment",
            name="section",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddIndex(
            model_name="enrichment",
            index=models.Index(fields=["section", "-published_at"], name="section_latest"),
        ),
    ]
