"""Entry.categories: the feed's categories for a link, carried to the article."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sources', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='entry',
            name='categories',
            field=models.JSONField(blank=True, default=list, help_text="the feed's categories for this link"),
        ),
    ]
