"""An article's comments: reading them, and posting with a token.

Posting is the comments app's posting service (newsdesk.comments.posting.post_comment),
the one the web form calls: blocked authors, the text and the comment replied to, the
flood limits, the double-submit check and moderation are all decided there. This module
only turns its answer into HTTP: 201 created, 200 the same text just posted, 403
blocked, 422 invalid text or reply, 429 over a flood limit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError, ValidationError

from newsdesk.api.auth import caller, token_required
from newsdesk.api.endpoints.common import OPTIONAL_TOKEN, errors, forbidden, id_param, not_found
from newsdesk.api.pagination import limit_param, page
from newsdesk.api.schemas import CommentIn, CommentOut, CommentPage
from newsdesk.articles.models import Article
from newsdesk.comments import posting, thread
from newsdesk.comments.models import Comment

router = Router(tags=["comments"])


def _article(article_id: int) -> Article:
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise not_found(f"There is no article {article_id}.")
    return article


def _comment_out(
    comment: Comment, *, shown: bool, placeholder: str, mine: bool, moderator: bool, replies: Iterable[dict] = ()
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
) -> dict:
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


def _invalid(refused: posting.InvalidComment) -> ValidationError:
    # The locations are those the API gave when it validated with the web form: the
    # text at ["body", "body"], the comment replied to (a whole-form error) at ["body"].
    return ValidationError(
        [
            {
                "loc": ["body", "body"] if problem.field == "body" else ["body"],
                "msg": problem.message,
                "type": problem.code,
            }
            for problem in refused.problems
        ]
    )


@router.post(
    "/articles/{article_id}/comments",
    auth=token_required,
    response={200: CommentOut, 201: CommentOut, **errors(400, 403, 404)},
)
def post_comment(request: HttpRequest, payload: CommentIn, article_id: int = id_param("article")) -> Status[dict]:
    """Post a comment, or a reply with `parent`. 201: created, published or held for
    moderation (see `status` and `held_reason`); 200: the same text was just posted,
    and that comment is returned instead of a copy."""
    user = caller(request)
    article = _article(article_id)
    try:
        posted = posting.post_comment(user, article, payload.body, parent=payload.parent)
    except (posting.NotAllowed, posting.Blocked) as refused:
        raise forbidden(refused.message) from None
    except posting.InvalidComment as refused:
        raise _invalid(refused) from None
    except posting.RateLimited as refused:
        raise HttpError(429, refused.message) from None
    return Status(
        201 if posted.created else 200,
        _comment_out(posted.comment, shown=True, placeholder="", mine=True, moderator=False),
    )
