import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
application = get_wsgi_application()

if os.environ.get("NEWSDESK_WARM_UP", "1") != "0":
    # Ask-the-article needs the embedding model, which takes seconds to import and load:
    # each web process loads it as it starts, beside serving, not in its first question.
    from newsdesk.ai.embeddings import get_model

    threading.Thread(target=get_model, name="warm-up", daemon=True).start()
