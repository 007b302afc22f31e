"""`stories_changed`: sent when articles' stories or related lists may have changed.

Receivers (the page cache) get `article_ids`, the articles whose pages show something
different now. Sent after the transaction commits, so a receiver never sees the old rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

stories_changed = Signal()


def send_stories_changed(article_ids: Iterable[int]) -> None:
    ids = sorted(set(article_ids))
    if ids:
        transaction.on_commit(lambda: stories_changed.send(sender=None, article_ids=ids))
