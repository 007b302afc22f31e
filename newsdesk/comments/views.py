"""Comment actions. Every one is a plain POST form that redirects back to the comment
on the article page; an invalid form is shown again on a page of its own with the
reader's text kept, so nothing typed is lost.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from newsdesk.accounts.models import is_blocked
from newsdesk.articles.models import Article
from newsdesk.comments import moderation, posting
from newsdesk.comments.forms import CommentForm, EditForm, ReportForm
from newsdesk.comments.models import Comment, Report
from newsdesk.comments.posting import BLOCKED
from newsdesk.comments.ratelimit import report_wait
from newsdesk.comments.signals import notify

# The form page shows the text again, so a wait message says so.
FORM_KEPT = "; your text is kept below"


def _article(pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("source"), pk=pk)


def _comment(pk: int) -> Comment:
    return get_object_or_404(Comment.objects.select_related("article", "author"), pk=pk)


def _back(article: Article, comment: Comment | None = None) -> HttpResponseRedirect:
    anchor = f"comment-{comment.pk}" if comment else "comments"
    return HttpResponseRedirect(f"{article.get_absolute_url()}#{anchor}")


def _login_first(request: HttpRequest, article: Article) -> HttpResponse:
    return redirect_to_login(f"{article.get_absolute_url()}#comments")


def _form_page(
    request: HttpRequest,
    article: Article,
    form: BaseForm,
    *,
    title: str,
    action: str,
    status: int,
    comment: Comment | None = None,
    submit: str = "Post",
) -> HttpResponse:
    context = {
        "article": article,
        "form": form,
        "title": title,
        "action": action,
        "comment": comment,
        "submit": submit,
    }
    return render(request, "comments/form_page.html", context, status=status)


@require_http_methods(["GET", "POST"])
def article_comments(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the article's comments on a page of their own. POST: a new comment or reply.

    The posting rules are posting.post_comment's; this only turns its refusals into
    errors on the form, shown again with the reader's text."""
    article = _article(pk)
    if request.method == "GET":
        return render(request, "comments/article_comments.html", {"article": article})
    if not request.user.is_authenticated:
        return _login_first(request, article)
    form = CommentForm(request.POST)
    page = {
        "title": f"Comment on “{article.title}”",
        "action": request.path,
        "submit": "Post comment",
    }
    if not form.is_valid():  # a reply field that is not a comment id
        return _form_page(request, article, form, status=400, **page)
    try:
        posted = posting.post_comment(
            request.user, article, form.cleaned_data["body"], parent=form.cleaned_data["parent"]
        )
    except posting.InvalidComment as refused:
        for problem in refused.problems:
            # Text problems show at the text; reply problems above the form.
            field = "body" if problem.field == "body" else None
            form.add_error(field, ValidationError(problem.message, code=problem.code))
        return _form_page(request, article, form, status=400, **page)
    except (posting.NotAllowed, posting.Blocked) as refused:
        form.add_error(None, refused.message)
        return _form_page(request, article, form, status=403, **page)
    except posting.RateLimited as refused:
        form.add_error(None, f"{refused.message.removesuffix('.')}{FORM_KEPT}.")
        return _form_page(request, article, form, status=429, **page)
    # A double submit lands on the comment already posted, like a new one.
    return _back(article, posted.comment)


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _comment(pk)
    if not request.user.is_authenticated:
        return _login_first(request, comment.article)
    if comment.author_id != request.user.pk:
        raise PermissionDenied("You can edit only your own comments.")
    if comment.status not in (Comment.Status.PUBLISHED, Comment.Status.PENDING):
        raise PermissionDenied("This comment can no longer be edited.")
    page = {
        "title": "Edit your comment",
        "action": request.path,
        "comment": comment,
        "submit": "Save",
    }
    if request.method == "GET":
        return _form_page(request, comment.article, EditForm(initial={"body": comment.body}), status=200, **page)
    form = EditForm(request.POST)
    if is_blocked(request.user):
        form.is_valid()
        form.add_error(None, BLOCKED)
        return _form_page(request, comment.article, form, status=403, **page)
    if not form.is_valid():
        return _form_page(request, comment.article, form, status=400, **page)
    body = form.cleaned_data["body"]
    if body != comment.body:
        reason = moderation.hold_reason(request.user, body)
        comment.body, comment.edited_at = body, timezone.now()
        comment.status = Comment.Status.PENDING if reason else Comment.Status.PUBLISHED
        comment.held_reason = reason
        comment.save(update_fields=["body", "edited_at", "status", "held_reason"])
        notify(comment.article_id)
    return _back(comment.article, comment)


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _comment(pk)
    if not request.user.is_authenticated:
        return _login_first(request, comment.article)
    if comment.author_id != request.user.pk:
        raise PermissionDenied("You can delete only your own comments.")
    if comment.is_gone:
        return _back(comment.article)
    if request.method == "GET":
        return render(
            request,
            "comments/confirm.html",
            {
                "article": comment.article,
                "comment": comment,
                "title": "Delete your comment?",
                "explanation": "The text will be deleted for good. If there are replies, “[deleted]” stays in its place.",
                "submit": "Delete",
            },
        )
    moderation.delete_own(comment)
    return _back(comment.article, comment if comment.replies.exists() else None)


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _comment(pk)
    if not request.user.is_authenticated:
        return _login_first(request, comment.article)
    if comment.author_id == request.user.pk or comment.status != Comment.Status.PUBLISHED:
        raise PermissionDenied("This comment cannot be reported.")
    context = {"article": comment.article, "comment": comment}
    if Report.objects.filter(comment=comment, reporter=request.user).exists():
        return render(request, "comments/report.html", {**context, "already": True}, status=409)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        problem = BLOCKED if is_blocked(request.user) else report_wait(request.user)
        if problem:
            form.is_valid()
            form.add_error(None, problem)
        elif form.is_valid():
            form.instance.comment, form.instance.reporter = comment, request.user
            try:
                with transaction.atomic():
                    form.save()
            except IntegrityError:  # reported twice at once: the first one counts
                pass
            notify(comment.article_id)
            return _back(comment.article, comment)
    status = 200 if request.method == "GET" else 400
    return render(request, "comments/report.html", {**context, "form": form}, status=status)


ACTIONS = {
    "hide": (
        "Hide this comment?",
        "Readers will see “[hidden by a moderator]”. You can unhide it later.",
        "Hide",
    ),
    "unhide": ("Unhide this comment?", "The comment will be visible to everyone again.", "Unhide"),
    "approve": ("Approve this comment?", "The comment will be published.", "Approve"),
    "remove": (
        "Remove this comment?",
        "The text will be erased for good; this cannot be undone.",
        "Remove",
    ),
    "block": (
        "Block this comment’s author?",
        (
            "They will no longer be able to comment or report. Their existing comments stay as they are. "
            "Unblock them from the admin."
        ),
        "Block author",
    ),
}


@require_http_methods(["GET", "POST"])
def moderate(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("no such action")
    comment = _comment(pk)
    if not request.user.is_authenticated:
        return _login_first(request, comment.article)
    if not moderation.can_moderate(request.user):
        raise PermissionDenied("Only moderators can do this.")
    title, explanation, submit = ACTIONS[action]
    if request.method == "GET":
        return render(
            request,
            "comments/confirm.html",
            {
                "article": comment.article,
                "comment": comment,
                "title": title,
                "explanation": explanation,
                "submit": submit,
            },
        )
    if action == "hide":
        moderation.hide(comment, request.user)
    elif action in ("unhide", "approve"):
        moderation.unhide(comment, request.user)
    elif action == "remove":
        moderation.remove(comment, request.user)
    elif not moderation.block_author(comment, request.user, reason=request.POST.get("reason", "")):
        raise PermissionDenied("This author cannot be blocked (a moderator, an administrator, or yourself).")
    return _back(comment.article, comment)
