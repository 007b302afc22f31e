import gc
import os
import threading

from django.core.wsgi import get_wsgi_application

from newsdesk import turns

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
# gunicorn's threads take turns at Python (see turns.py): one page at a time per process.
application = turns.serve(get_wsgi_application())


def warm_up() -> None:
    """Load the embedding model, then exempt what is loaded by then from the garbage
    collector. Ask-the-article needs the model, which takes seconds to import and load:
    each web process loads it as it starts, beside serving, not in its first question,
    unless a shared embedder (NEWSDESK_EMBEDDER, set by `newsdesk up`) holds it: then
    this process never imports torch. The model and the libraries are half a million
    objects that live as long as the process; a full collection walked them all, a
    200 ms pause of every request in the process, and frozen they cost 14 ms
    (in-process, 800 search and article requests)."""
    from newsdesk.ai.embeddings import warm_up as load_model

    load_model()
    gc.freeze()


if os.environ.get("NEWSDESK_WARM_UP", "1") != "0":
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
