"""Posting a comment or a reply: every rule, once, for every client.

The web form (comments.views.article_comments) and the JSON API
(api.endpoints.comments.post_comment) both call `post_comment` and only translate what
it returns, or the `Refused` it raises, into their own answers. The rules, in the order
they apply:

1. who: a signed-in, active reader (`NotAllowed`) who is not blocked by a moderator
   (`Blocked`). Blocking wins over anything wrong with the text;
2. what: the text (text.clean_body: something visible, no control characters, at most
   MAX_LENGTH characters once line ends are normalised) and, for a reply, the comment
   replied to: it exists, belongs to the same article, and its thread is open (its
   top-level comment is published). Replies are one level deep: a reply to a reply
   joins its top-level comment's thread. Every problem is reported at once
   (`InvalidComment`);
3. moderation: moderation.hold_reason decides published or held (pending). Decided
   before the transaction: it reads only the reader and the text, and on SQLite the
   transaction holds the one write lock that task workers wait for;
4. in one transaction (IMMEDIATE on SQLite, so the check and the insert cannot
   interleave with another post by the same reader): the flood limits
   (ratelimit.comment_wait, `RateLimited`); then the double submit: the same text by the
   same reader in the same place within DUPLICATE_WINDOW (deleted and removed comments
   aside) is not posted again, and that comment is returned with `created=False`; then
   the insert, and `comments_changed` for the article once the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from newsdesk.accounts.models import is_blocked
from newsdesk.articles.models import Article
from newsdesk.comments import moderation
from newsdesk.comments.models import MAX_LENGTH, Comment
from newsdesk.comments.ratelimit import comment_wait
from newsdesk.comments.signals import notify
from newsdesk.comments.text import clean_body

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

__all__ = [
    "BLOCKED",
    "DUPLICATE_WINDOW",
    "MAX_LENGTH",
    "NOT_ALLOWED",
    "Blocked",
    "InvalidComment",
    "NotAllowed",
    "Posted",
    "Problem",
    "RateLimited",
    "Refused",
    "post_comment",
    "reply_target",
    "valid_body",
]

BLOCKED = "Your account has been blocked from commenting by a moderator."
NOT_ALLOWED = "Only signed-in readers can comment."
DUPLICATE_WINDOW = timedelta(minutes=10)


# --- Refusals ----------------------------------------------------------------------------


class Refused(Exception):
    """Why a comment was not posted. `code` is stable; `message` is for the reader."""

    code = "refused"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotAllowed(Refused):
    """Not a signed-in, active reader (both clients sign readers in before asking)."""

    code = "not_allowed"


class Blocked(Refused):
    """A moderator has blocked the reader from commenting."""

    code = "blocked"


class RateLimited(Refused):
    """Over one of the flood limits; the message says how long to wait."""

    code = "rate_limited"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what was sent.

    `field` is "body" (codes: empty, control, too_long) or "parent" (codes: no_parent,
    other_article, closed)."""

    field: Literal["body", "parent"]
    code: str
    message: str


class InvalidComment(Refused):
    """The text, or the comment replied to, is not acceptable; `problems` lists each."""

    code = "invalid"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__(" ".join(problem.message for problem in self.problems))

    @property
    def codes(self) -> list[str]:
        return [problem.code for problem in self.problems]


# --- The result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """`created`: a new comment (published or held, see `comment.status`); False: the
    same text had just been posted, and that comment is returned instead of a copy."""

    comment: Comment
    created: bool


# --- The rules -----------------------------------------------------------------------------


def valid_body(body: str) -> str:
    """The text as it will be stored, or InvalidComment (field "body")."""
    try:
        return clean_body(body)
    except ValidationError as error:
        raise InvalidComment(
            [Problem("body", error.code or "invalid", message) for message in error.messages]
        ) from None


def reply_target(article: Article, parent_id: int | None) -> Comment | None:
    """The top-level comment a reply to `parent_id` goes under (None: not a reply), or
    InvalidComment (field "parent")."""
    if parent_id is None:
        return None
    parent = Comment.objects.filter(pk=parent_id).select_related("parent").first()
    if parent is None:
        problem = Problem("parent", "no_parent", "The comment you are replying to does not exist.")
    elif parent.article_id != article.pk:
        problem = Problem("parent", "other_article", "The comment you are replying to belongs to another article.")
    else:
        if parent.parent_id is not None:  # a reply to a reply joins its thread
            parent = parent.parent
        if parent.status == Comment.Status.PUBLISHED:
            return parent
        problem = Problem("parent", "closed", "The comment you are replying to is no longer open for replies.")
    raise InvalidComment([problem])


def _check_author(author: AbstractBaseUser | AnonymousUser) -> None:
    if not (getattr(author, "is_authenticated", False) and getattr(author, "is_active", False)):
        raise NotAllowed(NOT_ALLOWED)
    if is_blocked(author):
        raise Blocked(BLOCKED)


def post_comment(
    author: AbstractBaseUser | AnonymousUser, article: Article, body: str, parent: int | None = None
) -> Posted:
    """Post `body` on `article` as `author`, as a reply when `parent` (a comment id) is
    given. Returns Posted; raises NotAllowed, Blocked, InvalidComment or RateLimited
    (all `Refused`), and then nothing has been written."""
    _check_author(author)
    problems: list[Problem] = []
    try:
        body = valid_body(body)
    except InvalidComment as invalid:
        problems += invalid.problems
    try:
        top = reply_target(article, parent)
    except InvalidComment as invalid:
        problems += invalid.problems
    if problems:
        raise InvalidComment(problems)

    reason = moderation.hold_reason(author, body)
    with transaction.atomic():
        if wait := comment_wait(author):
            raise RateLimited(wait)
        duplicate = (
            Comment.objects.filter(
                article=article,
                author=author,
                parent=top,
                body=body,
                created_at__gt=timezone.now() - DUPLICATE_WINDOW,
            )
            .exclude(status__in=[Comment.Status.DELETED, Comment.Status.REMOVED])
            .first()
        )
        if duplicate is not None:
            return Posted(duplicate, created=False)
        comment = Comment.objects.create(
            article=article,
            author=author,
            parent=top,
            body=body,
            status=Comment.Status.PENDING if reason else Comment.Status.PUBLISHED,
            held_reason=reason,
        )
        notify(article.pk)
    return Posted(comment, created=True)
