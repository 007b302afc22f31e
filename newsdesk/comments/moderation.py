"""Who may moderate, what gets held back, and the moderation actions.

The page buttons and the admin actions both call these functions, so a comment hidden
from either place ends in the same state and sends the same `comments_changed`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from newsdesk.accounts.models import set_blocked
from newsdesk.comments.models import Comment
from newsdesk.comments.signals import notify
from newsdesk.comments.text import count_links

MODERATORS_GROUP = "moderators"
PERMISSION = "comments.moderate_comment"


def can_moderate(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Members of "moderators", or anyone granted comments.moderate_comment (superusers)."""
    return user is not None and bool(user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def hold_reason(user: AbstractBaseUser, body: str) -> str:
    """Why a new or edited comment should wait for a moderator, or '' to publish it.

    New accounts are where link spam comes from, so they get a much lower link
    allowance than established readers; moderators are never held.
    """
    if can_moderate(user):
        return ""
    links = count_links(body)
    new_for = timedelta(days=settings.NEWSDESK_COMMENTS_NEW_ACCOUNT_DAYS)
    if user.date_joined > timezone.now() - new_for:
        allowed = settings.NEWSDESK_COMMENTS_NEW_ACCOUNT_MAX_LINKS
        if links > allowed:
            return f"{links} links from an account younger than {new_for.days} days"
    allowed = settings.NEWSDESK_COMMENTS_MAX_LINKS
    if links > allowed:
        return f"{links} links"
    return ""


def _moderated(comment: Comment, status: str, by: AbstractBaseUser) -> None:
    comment.status = status
    comment.moderated_at = timezone.now()
    comment.moderated_by = by if getattr(by, "is_authenticated", False) else None
    fields = ["status", "moderated_at", "moderated_by"]
    if status == Comment.Status.PUBLISHED:
        comment.held_reason = ""
        fields.append("held_reason")
    if status == Comment.Status.REMOVED:
        comment.body = ""
        fields.append("body")
    comment.save(update_fields=fields)
    comment.reports.filter(resolved=False).update(resolved=True)
    notify(comment.article_id)


def hide(comment: Comment, by: AbstractBaseUser) -> bool:
    """Reversible: the text stays stored and `unhide` brings it back."""
    if comment.is_gone or comment.status == Comment.Status.HIDDEN:
        return False
    _moderated(comment, Comment.Status.HIDDEN, by)  # type: ignore[arg-type]  # a str at run time
    return True


def unhide(comment: Comment, by: AbstractBaseUser) -> bool:
    """Publish a hidden comment again, or approve one held for moderation."""
    if comment.status not in (Comment.Status.HIDDEN, Comment.Status.PENDING):
        return False
    _moderated(comment, Comment.Status.PUBLISHED, by)  # type: ignore[arg-type]  # a str at run time
    return True


def remove(comment: Comment, by: AbstractBaseUser) -> bool:
    """Irreversible: the text is erased; "[removed]" stays if the comment has replies."""
    if comment.is_gone:
        return False
    _moderated(comment, Comment.Status.REMOVED, by)  # type: ignore[arg-type]  # a str at run time
    return True


def block_author(comment: Comment, by: AbstractBaseUser, reason: str = "") -> bool:
    """Stop the comment's author from commenting; False for moderators and superusers,
    who are blocked only by removing their rights."""
    author = comment.author
    if author is None or author.is_superuser or can_moderate(author) or author.pk == getattr(by, "pk", None):
        return False
    set_blocked(author, True, by=by, reason=reason or f"from comment {comment.pk}")
    return True


def delete_own(comment: Comment) -> None:
    """The author's delete: the text goes; the row stays for replies and rate limits."""
    comment.status = Comment.Status.DELETED
    comment.body = ""
    comment.held_reason = ""
    comment.save(update_fields=["status", "body", "held_reason"])
    comment.reports.filter(resolved=False).update(resolved=True)
    notify(comment.article_id)
