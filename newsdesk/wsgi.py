import gc
import os
import threading
from pathlib import Path

from django.core.wsgi import get_wsgi_application

from newsdesk import turns

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
# gunicorn's threads take turns at Python (see turns.py): one page at a time per process.
application = turns.serve(get_wsgi_application())


def warm_up() -> None:
    """Load the embedding model and the site, then exempt what is loaded by then from the
    garbage collector.

    Ask-the-article needs the model, which takes seconds to import and load: each web
    process loads it as it starts, beside serving, not in its first question, unless a
    shared embedder (NEWSDESK_EMBEDDER, set by `newsdesk up`) holds it: then this process
    never imports torch. The site (its URLs, views and compiled templates) would
    otherwise be loaded by the first requests. All of it lives as long as the process,
    and a full collection walks every object not frozen: with only the libraries frozen
    it still walked some 85,000 (the site): a 50-60 ms pause of every request in the
    process, several times a minute under load; frozen with the site, 8-40 ms under
    `newsdesk bench web` (1-5 ms in a quiet process).
    """
    from newsdesk.ai.embeddings import warm_up as load_model

    load_model()
    load_site()
    gc.collect()  # no garbage is frozen with the rest
    gc.freeze()


def load_site() -> None:
    """Import every view (through the URL configuration) and compile every template of
    newsdesk's own apps into the template loaders' cache."""
    from django.template import engines
    from django.urls import reverse

    reverse("home")  # imports the URL configuration, and with it every view; fills the lookups
    ours = Path(__file__).resolve().parent
    for engine in engines.all():
        for loader in engine.engine.template_loaders:
            for directory in map(Path, loader.get_dirs()):
                if not directory.resolve().is_relative_to(ours):
                    continue  # Django's own (the admin's): loaded when staff use them
                for path in sorted(directory.rglob("*")):
                    if path.is_file():
                        engine.get_template(path.relative_to(directory).as_posix())


if os.environ.get("NEWSDESK_WARM_UP", "1") != "0":
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
