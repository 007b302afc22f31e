"""An article's comments: reading them, and posting with a token.

Posting goes through the comments app's own rules, in the order its form view applies
them: blocked authors (accounts.is_blocked), the form's validation (CommentForm: text,
length, control characters, which comments can be replied to), the flood limits
(comments.ratelimit.comment_wait, checked and inserted in one transaction), the
double-submit check, and moderation (moderation.hold_reason decides published or held).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError, ValidationError

from newsdesk.accounts.models import is_blocked
from newsdesk.api.auth import caller, token_required
from newsdesk.api.endpoints.common import OPTIONAL_TOKEN, errors, forbidden, id_param, not_found
from newsdesk.api.pagination import limit_param, page
from newsdesk.api.schemas import CommentIn, CommentOut, CommentPage
from newsdesk.articles.models import Article
from newsdesk.comments import moderation, thread
from newsdesk.comments.forms import CommentForm
from newsdesk.comments.models import Comment
from newsdesk.comments.ratelimit import comment_wait
from newsdesk.comments.signals import notify
from newsdesk.comments.views import BLOCKED, DUPLICATE_WINDOW

router = Router(tags=["comments"])

WEB_ONLY_HINT = "; your text is kept below"


def _article(article_id: int) -> Article:
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise not_found(f"There is no article {article_id}.")
    return article


def _comment_out(
    comment: Comment, *, shown: bool, placeholder: str, mine: bool, moderator: bool, replies=()
) -> dict:
    return {
        "id": comment.pk,
        "parent": comment.parent_id,
        "author": comment.author.get_username() if shown and comment.author else None,
        "status": comment.status,
        "body": comment.body if shown else "",
        "placeholder": "" if shown else placeholder,
        "held_reason": comment.held_reason if (mine or moderator) and shown else "",
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "replies": list(replies),
    }


def _node_out(node: thread.Node, moderator: bool) -> dict:
    return _comment_out(
        node.comment,
        shown=node.shown,
        placeholder=node.placeholder,
        mine=node.mine,
        moderator=moderator,
        replies=[_node_out(reply, moderator) for reply in node.replies],
    )


@router.get(
    "/articles/{article_id}/comments",
    response={200: CommentPage, **errors(404)},
    openapi_extra=OPTIONAL_TOKEN,
)
def list_comments(
    request: HttpRequest,
    article_id: int = id_param("article"),
    limit: int = limit_param(50),
    offset: int = Query(0, ge=0, le=100_000),
):
    """The comments a reader sees, oldest first, replies under their comment. With a
    token you also see your own comments awaiting moderation (moderators see all)."""
    article = _article(article_id)
    built = thread.build(article, caller(request))
    nodes = built.nodes[offset : offset + limit]
    result = page(
        request,
        [_node_out(node, built.moderator) for node in nodes],
        count=len(built.nodes),
        limit=limit,
        offset=offset,
    )
    return {**result, "published": built.count}


def _form_errors(form: CommentForm) -> ValidationError:
    problems = []
    for field, messages in form.errors.get_json_data().items():
        loc = ["body"] if field == "__all__" else ["body", field]
        problems += [
            {"loc": loc, "msg": m["message"], "type": m["code"] or "invalid"} for m in messages
        ]
    return ValidationError(problems)


@router.post(
    "/articles/{article_id}/comments",
    auth=token_required,
    response={200: CommentOut, 201: CommentOut, **errors(400, 403, 404)},
)
def post_comment(request: HttpRequest, payload: CommentIn, article_id: int = id_param("article")):
    """Post a comment, or a reply with `parent`. 201: created, published or held for
    moderation (see `status` and `held_reason`); 200: the same text was just posted,
    and that comment is returned instead of a copy."""
    user = caller(request)
    article = _article(article_id)
    if is_blocked(user):
        raise forbidden(BLOCKED)
    form = CommentForm(
        {"body": payload.body, "parent": "" if payload.parent is None else str(payload.parent)},
        article=article,
    )
    if not form.is_valid():
        raise _form_errors(form)
    body, parent = form.cleaned_data["body"], form.cleaned_data["parent"]
    with transaction.atomic():
        if wait := comment_wait(user):
            raise HttpError(429, wait.replace(WEB_ONLY_HINT, ""))
        duplicate = (
            Comment.objects.filter(
                article=article,
                author=user,
                parent=parent,
                body=body,
                created_at__gt=timezone.now() - DUPLICATE_WINDOW,
            )
            .exclude(status__in=[Comment.Status.DELETED, Comment.Status.REMOVED])
            .first()
        )
        if duplicate:
            return Status(
                200, _comment_out(duplicate, shown=True, placeholder="", mine=True, moderator=False)
            )
        reason = moderation.hold_reason(user, body)
        comment = Comment.objects.create(
            article=article,
            author=user,
            parent=parent,
            body=body,
            status=Comment.Status.PENDING if reason else Comment.Status.PUBLISHED,
            held_reason=reason,
        )
        notify(article.pk)
    return Status(
        201, _comment_out(comment, shown=True, placeholder="", mine=True, moderator=False)
    )
