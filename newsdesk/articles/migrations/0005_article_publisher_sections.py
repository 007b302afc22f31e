"""Article.publisher_sections: where the publisher filed the article (page section, feed
categories), read by the section classifier."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0004_enrichment_published_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='publisher_sections',
            field=models.JSONField(blank=True, default=list, help_text="the publisher's own section labels: the page's, then the feed's categories"),
        ),
    ]
