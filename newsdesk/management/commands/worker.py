from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a task worker for the configured Tasks backend (start several for more throughput)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")

    def handle(self, *args, batch: bool, **options):
        from newsdesk.articles.enrich import warm_up

        warm_up()  # the first enrichment task should not pay for loading the models
        backend = settings.TASKS["default"]["BACKEND"]
        if backend == "django_tasks_db.DatabaseBackend":
            call_command("db_worker", queue_name="*", interval=0.5, reload=False, batch=batch,
                         verbosity=options["verbosity"])
        else:
            raise CommandError(f"no worker known for the task backend {backend!r}")
