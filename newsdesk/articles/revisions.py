"""Every version of an article: kept as it is updated, rebuilt to show what changed.

`record` runs inside the store's update transaction, before the new text is set: the
replaced headline, description and text (only the fields that change) become an
`ArticleRevision`, with the correction note the new version adds, if any
(`newsdesk.articles.corrections`). A worker killed mid-update leaves the old article and
no revision, or the new article and its revision.

Retention: at most `NEWSDESK_ARTICLE_REVISIONS` (20) revisions per article. Past that,
the second-oldest revision absorbs the third-oldest: the original text and its first
change stay as they were, so do the newest changes, and the changes in between read as
one (`updates` says how many it holds; a correction note among them is kept). Each
field of a revision is within the limit the store applies to the article's field.

`history` rebuilds each version from the article (the newest) backwards and diffs each
pair (`newsdesk.articles.textdiff`), newest change first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Case, Count, F, Max, Sum, When

from newsdesk.ai.sentences import split_sentences
from newsdesk.articles import corrections
from newsdesk.articles.models import Article, ArticleRevision
from newsdesk.articles.textdiff import Piece, TextDiff, diff_line, diff_text

TRACKED = ("title", "description", "body_text")
NOTE_SEPARATOR = " \u2022 "


def kept() -> int:
    """How many revisions an article keeps (at least 3: the first, the merged, the newest)."""
    return max(3, int(settings.NEWSDESK_ARTICLE_REVISIONS))


def record(
    article: Article, new: Mapping[str, str], *, now: datetime, stated_at: datetime | None
) -> ArticleRevision | None:
    """Keep what the update of `article` (still holding the old text) to `new` replaces.

    Call it inside the update's transaction; returns the revision, or None when the
    headline, description and text stay the same.
    """
    replaced = {name: getattr(article, name) for name in TRACKED if getattr(article, name) != new[name]}
    if not replaced:
        return None
    note = corrections.new_note(
        [article.title, article.description, article.body_text], [new["title"], new["description"], new["body_text"]]
    )
    revision = ArticleRevision.objects.create(
        article=article,
        revised_at=now,
        stated_at=stated_at,
        is_correction=bool(note and note.is_correction),
        note_kind=note.kind if note else "",
        note=note.text if note else "",
        **replaced,
    )
    prune(article.pk)
    return revision


def prune(article_id: int) -> None:
    """Apply the retention rule (above) to one article's revisions."""
    limit = kept()
    with transaction.atomic():
        rows = list(ArticleRevision.objects.filter(article_id=article_id).order_by("revised_at", "id"))
        while len(rows) > limit:
            into, gone = rows[1], rows[2]
            _absorb(into, gone)
            into.save()
            gone.delete()
            rows.pop(2)


def _absorb(into: ArticleRevision, later: ArticleRevision) -> None:
    """`into` (version a -> b) and `later` (b -> c) become one revision a -> c."""
    for name in TRACKED:
        if getattr(into, name) is None:
            setattr(into, name, getattr(later, name))  # a's field was b's: b's is later's old one
    into.revised_at = later.revised_at
    into.stated_at = later.stated_at
    into.updates += later.updates
    into.is_correction = into.is_correction or later.is_correction
    if later.note and later.note not in into.note:
        joined = NOTE_SEPARATOR.join(n for n in (into.note, later.note) if n)
        into.note = joined if len(joined) <= 2 * corrections.MAX_NOTE else later.note
        into.note_kind = later.note_kind if later.is_correction or not into.note_kind else into.note_kind


@dataclass(frozen=True)
class Change:
    """One revision as readers see it: when, what the publisher said about it, the diffs."""

    revised_at: datetime
    stated_at: datetime | None
    is_correction: bool
    note_kind: str
    note: str
    updates: int
    title: tuple[Piece, ...] | None  # None: the headline did not change
    description: tuple[Piece, ...] | None
    body: TextDiff | None


HISTORY_SECONDS = 24 * 3600


def cached_history(article: Article) -> list[Change]:
    """`history`, remembered in the default cache per version of the article: the diffs
    of a long, often revised article cost tens of milliseconds, and signed-in readers'
    pages (never page-cached) and the API would pay them on every view. One indexed
    query when the article never changed."""
    count, last = _revisions_seen(article.pk)
    if not count:
        return []
    key = f"newsdesk:revisions:{article.pk}:{count}:{last}:{article.updated_at.timestamp()}"
    changes = cache.get(key)
    if changes is None:
        changes = history(article)
        cache.set(key, changes, HISTORY_SECONDS)
    return changes


def _revisions_seen(article_id: int) -> tuple[int, int | None]:
    """(count, highest id) of the article's revisions: `aggregate(Count, Max)` as plain SQL,
    since every article page asks and building the queryset cost several times the query."""
    connection = connections[ArticleRevision.objects.db]
    table = connection.ops.quote_name(ArticleRevision._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), max(id) FROM {table} WHERE article_id = %s", [article_id])
        count, last = cursor.fetchone()
    return count, last


def history(article: Article, revisions: list[ArticleRevision] | None = None) -> list[Change]:
    """The article's changes, newest first, each diffed against the version after it."""
    rows = revisions if revisions is not None else list(article.revisions.order_by("revised_at", "id"))
    after = {name: getattr(article, name) or "" for name in TRACKED}
    changes = []
    for row in reversed(rows):
        before = {name: getattr(row, name) if getattr(row, name) is not None else after[name] for name in TRACKED}
        changes.append(
            Change(
                revised_at=row.revised_at,
                stated_at=row.stated_at,
                is_correction=row.is_correction,
                note_kind=row.note_kind,
                note=row.note,
                updates=row.updates,
                title=diff_line(before["title"], after["title"]) if before["title"] != after["title"] else None,
                description=(
                    diff_line(before["description"], after["description"])
                    if before["description"] != after["description"]
                    else None
                ),
                body=diff_text(before["body_text"], after["body_text"])
                if before["body_text"] != after["body_text"]
                else None,
            )
        )
        after = before
    return changes


@dataclass(frozen=True)
class Summary:
    """An article's revisions in a line: lists (a story's coverage, the API, feeds) say
    whether it changed and was corrected without rebuilding any diff."""

    revisions: int  # revisions kept
    updates: int  # updates they stand for (older ones are merged: see the retention rule)
    last_changed_at: datetime  # when the newest version was stored
    corrected_at: datetime | None  # the newest correction's, None: never corrected

    @property
    def corrected(self) -> bool:
        return self.corrected_at is not None


def summaries(article_ids: Iterable[int]) -> dict[int, Summary]:
    """The `Summary` of each of these articles that ever changed, by id: one grouped
    query on the (article, revised_at) index whatever the number of articles."""
    ids = list(set(article_ids))
    if not ids:
        return {}
    rows = (
        ArticleRevision.objects.filter(article_id__in=ids)
        .values("article_id")
        .annotate(
            n=Count("id"),
            updates=Sum("updates"),
            last=Max("revised_at"),
            corrected=Max(Case(When(is_correction=True, then=F("revised_at")))),
        )
        .order_by()
    )
    return {r["article_id"]: Summary(r["n"], r["updates"], r["last"], r["corrected"]) for r in rows}


def enrichment_is_stale(article: Article, enriched_at: datetime | None) -> bool:
    """Whether the article changed after its summary was made: the summary's sentence
    numbers then point into a text that is gone."""
    return enriched_at is not None and article.updated_at > enriched_at


def still_said(summary: str, body_text: str) -> list[str]:
    """The sentences of an outdated `summary` that the article's newest text still has,
    word for word: a sentence the publisher corrected or removed is not among them."""
    present = {" ".join(s.text.split()) for s in split_sentences(body_text)}
    return [s.text for s in split_sentences(summary) if " ".join(s.text.split()) in present]
