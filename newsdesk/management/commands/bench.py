"""`newsdesk bench ...`: quality predictions for ../shared/eval and speed benchmarks.

Every benchmark prints readable lines and, as its LAST line, one JSON object with the
figures (see ../shared/BENCHMARKS.md).
"""

import json
from importlib import import_module
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

DEFAULT_SHARED = Path.cwd().parent / "shared"
# task -> (module, function(input_path, output_path) -> summary dict)
PREDICTORS = {
    "extraction": ("bench.extraction", "predict_extraction"),
    "hashtags": ("bench.hashtags", "predict_hashtags"),
    "summaries": ("bench.summaries", "predict_summaries"),
    "categories": ("bench.categories", "predict_categories"),
    "stories": ("bench.stories", "predict_stories"),
    "related": ("bench.stories", "predict_related"),
    "stories-pages": ("bench.stories_pages", "predict_stories_pages"),
    "entities": ("bench.entities", "predict_entities"),
}
# Speed benchmarks whose module defines `add_arguments(parser)` and `run(**options) -> dict`
# (the dict is printed as the last line).
BENCHMARKS = {
    "related": ("bench.vectors", "nearest-neighbour index: latency, recall, memory on 1M vectors"),
    "stories-speed": ("bench.stories_speed", "per-article cost of dedup + clustering + indexing"),
    "web": ("bench.web", "article and home pages under wrk, side by side with nginx"),
    "scale": ("bench.scale", "PostgreSQL: ingest with 1 and 2 workers, search and pages at 1M articles"),
    "faults": ("bench.faults", "SIGKILLs during an ingest: losses, resume time, web errors"),
    "footprint": ("bench.footprint", "memory (PSS) of `newsdesk up` and --small, idle and peak, enrichment speed"),
    "claims": ("bench.claims", "claim alignment: precision and recall of same claim and conflicting figures"),
    "personal": (
        "bench.personal",
        "For You, unread counts, alert fan-out, briefing emails at 1M articles, 100k readers",
    ),
}


_BASE_OPTIONS = {"verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color", "skip_checks"}


class Command(BaseCommand):
    help = "Benchmarks: predict TASK INPUT OUTPUT | extraction-speed DIR | ingest | enrich | " + " | ".join(BENCHMARKS)

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="bench", required=True)
        predict = sub.add_parser("predict", help="write predictions for ../shared/eval/score.py")
        predict.add_argument("task", choices=sorted(PREDICTORS))
        predict.add_argument("input", type=Path)
        predict.add_argument("output", type=Path)

        speed = sub.add_parser("extraction-speed", help="our extraction vs plain trafilatura, one core")
        speed.add_argument("input", type=Path)
        speed.add_argument("--passes", type=int, default=3)

        ingest = sub.add_parser("ingest", help="end-to-end ingest into SQLite from a simulated publisher")
        ingest.add_argument(
            "--corpus", type=Path, default=DEFAULT_SHARED / "corpora" / "summaries" / "bbc" / "articles"
        )
        ingest.add_argument("--articles", type=int, default=2000)
        ingest.add_argument("--workers", type=int, default=2)

        enrich = sub.add_parser("enrich", help="AI enrichment throughput and ask-the-article latency")
        enrich.add_argument(
            "--corpus", type=Path, default=DEFAULT_SHARED / "corpora" / "summaries" / "bbc" / "articles"
        )
        enrich.add_argument("--articles", type=int, default=400)
        enrich.add_argument("--processes", type=int, default=2)

        for name, (module, help_text) in BENCHMARKS.items():
            parser_ = sub.add_parser(name, help=help_text)
            try:
                import_module(module).add_arguments(parser_)
            except ModuleNotFoundError:  # an optional dependency of that benchmark is missing
                pass

    def handle(self, *args, bench, **options):
        if bench in BENCHMARKS:
            options = {k: v for k, v in options.items() if k not in _BASE_OPTIONS}
            result = import_module(BENCHMARKS[bench][0]).run(**options)
        elif bench == "predict":
            result = self._predict(options["task"], options["input"], options["output"])
        elif bench == "extraction-speed":
            from bench.extraction import extraction_speed

            result = extraction_speed(self._exists(options["input"]), passes=options["passes"])
        elif bench == "enrich":
            from bench.enrich import enrich_benchmark

            result = enrich_benchmark(
                self._exists(options["corpus"]), articles=options["articles"], processes=options["processes"]
            )
        else:
            from bench.ingest import ingest_benchmark

            result = ingest_benchmark(
                self._exists(options["corpus"]), articles=options["articles"], workers=options["workers"]
            )
        self.stdout.write(json.dumps(result))

    def _predict(self, task: str, input_path: Path, output: Path) -> dict:
        module, function = PREDICTORS[task]
        return getattr(import_module(module), function)(self._exists(input_path), output)

    @staticmethod
    def _exists(path: Path) -> Path:
        if not path.exists():
            raise CommandError(f"{path} does not exist (the corpora live in ../shared beside the repo)")
        return path
