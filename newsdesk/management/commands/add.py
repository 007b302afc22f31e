from django.core.management.base import BaseCommand, CommandError

from newsdesk.pipeline.add import AddError, add_url


class Command(BaseCommand):
    help = "Add a feed, a site's home page (feeds are discovered), a news sitemap or one article."

    def add_arguments(self, parser):
        parser.add_argument("urls", nargs="+", metavar="URL")

    def handle(self, *args, urls, **options):
        failed = 0
        for url in urls:
            try:
                self.stdout.write(add_url(url).describe())
            except AddError as error:
                failed += 1
                self.stderr.write(f"error: {error}")
        if failed:
            raise CommandError(f"{failed} of {len(urls)} URL(s) could not be added")
