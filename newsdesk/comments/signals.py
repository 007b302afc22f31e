"""`comments_changed`: the hook for whatever caches an article page.

Sent (with `article_id`) after a comment on that article is posted, edited, deleted,
reported or moderated, once the change is committed. Connect a receiver to drop the
article's cached HTML:

    from newsdesk.comments.signals import comments_changed

    @receiver(comments_changed)
    def forget_article(sender, article_id: int, **kwargs): ...
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

comments_changed = Signal()


def notify(article_id: int) -> None:
    """Send `comments_changed` after the current transaction commits (or now)."""
    transaction.on_commit(lambda: comments_changed.send(sender=None, article_id=article_id))
