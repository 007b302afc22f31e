"""One entry per article text in every listing, naming the other publishers of it.

Near-duplicate folding (folding.py) records each copy of a text (a wire story on several
sites, one page in two feeds) as a NearDuplicate pointing at the first article seen, the
original. A listing shows a text once: a copy is left out when the same listing holds
its original or an earlier copy of the same original. The latest articles hold every
original, so there a copy never shows; a hashtag, section or source listing may hold a
copy without its original (the copy's publisher filed it elsewhere), and then the copy
stands for the text. The entry shown says who else published it ("also published by").

Used by the reader pages, the feeds out and the API; search folds its ranked matches the
same way (`one_per_text` in newsdesk/search/types.py), through the same records. Who else published a
text is newsdesk/articles/copies.py's, for search's sake (re-exported here).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from newsdesk.articles.copies import also_published_by
from newsdesk.articles.models import Article

__all__ = ["also_published_by", "fold", "originals_only"]


def originals_only(articles: QuerySet[Article]) -> QuerySet[Article]:
    """`articles` without any copy: for a listing that holds every original (all the
    articles), where each copy's original is listed anyway."""
    return articles.filter(duplicate_of__isnull=True)


def fold(articles: QuerySet[Article]) -> QuerySet[Article]:
    """`articles` without the copies whose text it already lists: a copy stays only
    when neither its original nor an earlier copy of the same original is among
    `articles` (earlier: published before it, or at the same time with a smaller id)."""
    original = OuterRef("duplicate_of__original_id")
    earlier = Q(published_at__lt=OuterRef("published_at")) | Q(
        published_at=OuterRef("published_at"), pk__lt=OuterRef("pk")
    )
    listed = articles.order_by().filter(Q(pk=original) | (Q(duplicate_of__original_id=original) & earlier))
    return articles.filter(Q(duplicate_of__isnull=True) | ~Exists(listed.values("pk")))
