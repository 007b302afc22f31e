"""The comments of one article as one reader may see them.

Built in Python from one query, because what each comment shows depends on who is
looking: authors see their own comments awaiting moderation, moderators see hidden and
held ones, everyone else sees published text and placeholders that keep replies in
context. Oldest first, top-level and replies alike, so a thread reads as a conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connections

from newsdesk.accounts.models import is_blocked
from newsdesk.articles.models import Article
from newsdesk.comments.models import Comment, Report
from newsdesk.comments.moderation import can_moderate

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

PLACEHOLDERS = {
    Comment.Status.DELETED: "[deleted]",
    Comment.Status.REMOVED: "[removed by a moderator]",
    Comment.Status.HIDDEN: "[hidden by a moderator]",
    Comment.Status.PENDING: "[awaiting moderation]",
}


@dataclass
class Node:
    comment: Comment
    shown: bool
    placeholder: str = ""
    mine: bool = False
    reported: bool = False
    can_edit: bool = False
    can_report: bool = False
    replies: list[Node] = field(default_factory=list)


@dataclass
class Thread:
    article: Article
    nodes: list[Node]
    count: int  # published comments and replies: what everyone sees
    pending: int  # held for moderation; counted for moderators only
    signed_in: bool
    blocked: bool
    user: object = field(repr=False, compare=False)
    known_moderator: bool | None = field(default=None, repr=False, compare=False)

    @property
    def can_comment(self) -> bool:
        return self.signed_in and not self.blocked

    @property
    def moderator(self) -> bool:
        """Worked out when first asked: the permission check costs two queries, and a
        thread without comments shows a moderator nothing more than anyone else."""
        if self.known_moderator is None:
            self.known_moderator = can_moderate(self.user)
        return self.known_moderator


def _shown(comment: Comment, user_id: int | None, moderator: bool) -> bool:
    if comment.status == Comment.Status.PUBLISHED:
        return True
    if comment.status == Comment.Status.PENDING:
        return moderator or (user_id is not None and comment.author_id == user_id)
    return comment.status == Comment.Status.HIDDEN and moderator


def _has_comments(article: Article) -> bool:
    """Whether the article has any comment, in any state: one indexed lookup in plain
    SQL, because most articles have none and the thread's queryset costs ten times more
    to build than this costs to run."""
    connection = connections[Comment.objects.db]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(Comment._meta.db_table)} WHERE {quote('article_id')} = %s LIMIT 1", [article.pk]
        )
        return cursor.fetchone() is not None


def build(article: Article, user: AbstractBaseUser | AnonymousUser | None) -> Thread:
    signed_in = bool(getattr(user, "is_authenticated", False))
    user_id = user.pk if signed_in and user is not None else None
    blocked = is_blocked(user) if signed_in else False
    if not _has_comments(article):
        return Thread(article=article, nodes=[], count=0, pending=0, signed_in=signed_in, blocked=blocked, user=user)
    moderator = can_moderate(user)
    comments = list(Comment.objects.filter(article=article).select_related("author").order_by("created_at", "id"))
    reported: set[int] = set()
    if signed_in:
        reported = set(
            Report.objects.filter(reporter_id=user_id, comment__article=article).values_list("comment_id", flat=True)
        )

    def node(comment: Comment) -> Node:
        shown = _shown(comment, user_id, moderator)
        mine = user_id is not None and comment.author_id == user_id
        return Node(
            comment=comment,
            shown=shown,
            placeholder="" if shown else PLACEHOLDERS.get(comment.status, "[unavailable]"),
            mine=mine,
            reported=comment.pk in reported,
            can_edit=mine and not blocked and comment.status in (Comment.Status.PUBLISHED, Comment.Status.PENDING),
            can_report=signed_in and not mine and not blocked and comment.status == Comment.Status.PUBLISHED,
        )

    replies: dict[int, list[Node]] = {}
    for comment in comments:
        if comment.parent_id is not None:
            child = node(comment)
            if child.shown:
                replies.setdefault(comment.parent_id, []).append(child)
    nodes = []
    for comment in comments:
        if comment.parent_id is None:
            top = node(comment)
            top.replies = replies.get(comment.pk, [])
            if top.shown or top.replies:
                nodes.append(top)
    return Thread(
        article=article,
        nodes=nodes,
        count=sum(c.status == Comment.Status.PUBLISHED for c in comments),
        pending=sum(c.status == Comment.Status.PENDING for c in comments) if moderator else 0,
        signed_in=signed_in,
        blocked=blocked,
        user=user,
        known_moderator=moderator,
    )
