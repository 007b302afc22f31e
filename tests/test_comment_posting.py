"""One set of posting rules for both clients: the web form and the JSON API.

Each refusal is sent through both, with the Django test client and the whole stack,
and both must refuse it the same way: the same kind of answer (web 400 / API 422 for
what was sent, 403 for who sent it, 429 for how often), the same reader-facing
messages, and nothing written. The posting service (newsdesk.comments.posting) is
tested on its own at the end.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsdesk.accounts.models import set_blocked
from newsdesk.api.models import ApiToken
from newsdesk.comments import posting
from newsdesk.comments.models import Comment
from tests.test_comments import comments_changed_ids, make_article, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()

BLOCKED = "Your account has been blocked from commenting by a moderator."
EMPTY = "Write something before posting."
CONTROL = "The comment contains control characters; please remove them and post it again."
NO_PARENT = "The comment you are replying to does not exist."
OTHER_ARTICLE = "The comment you are replying to belongs to another article."
CLOSED = "The comment you are replying to is no longer open for replies."
KEPT = "; your text is kept below"


@pytest.fixture(autouse=True)
def _fresh_limits():
    caches["default"].clear()
    caches["ratelimit"].clear()


# --- Data ----------------------------------------------------------------------------------


@pytest.fixture
def article():
    return make_article(1)


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def bob():
    return make_user("bob")


# --- The two clients -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a client answered, in common terms.

    kind: "posted" (web 302, API 201), "duplicate" (API 200; the web redirects as for
    "posted"), "invalid" (web 400, API 422), "forbidden" (403), "limited" (429).
    """

    kind: str
    status: int
    messages: list[str]
    comment_id: int | None = None


WEB_KINDS = {302: "posted", 400: "invalid", 403: "forbidden", 429: "limited"}
API_KINDS = {201: "posted", 200: "duplicate", 422: "invalid", 403: "forbidden", 429: "limited"}

_ERROR_LIST = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.DOTALL)
_ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)


def web_post(user, article, body: str, parent=None) -> Outcome:
    client = Client()
    client.force_login(user)
    data = {"body": body}
    if parent is not None:
        data["parent"] = parent
    response = client.post(reverse("comments:article", args=[article.pk]), data)
    kind = WEB_KINDS[response.status_code]
    if response.status_code == 302:
        anchor = response["Location"].rpartition("#comment-")[2]
        return Outcome(kind, 302, [], int(anchor))
    page = response.content.decode()
    messages = [html.unescape(item) for block in _ERROR_LIST.findall(page) for item in _ITEM.findall(block)]
    if body.strip():
        assert html.escape(body.strip().splitlines()[0][:40]) in page  # the text is kept
    return Outcome(kind, response.status_code, messages)


def api_post(user, article, body: str, parent=None) -> Outcome:
    token = ApiToken.issue(user, "test")[1]
    data = {"body": body}
    if parent is not None:
        data["parent"] = parent
    response = Client().post(
        f"/api/articles/{article.pk}/comments",
        data=json.dumps(data),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    kind = API_KINDS[response.status_code]
    payload = response.json()
    if response.status_code in (200, 201):
        return Outcome(kind, response.status_code, [], payload["id"])
    if response.status_code == 422:
        return Outcome(kind, 422, [e["msg"] for e in payload["errors"]])
    return Outcome(kind, response.status_code, [payload["detail"]])


def both_refuse(user, article, body: str, parent=None) -> tuple[Outcome, Outcome]:
    """Send the same post through both clients; both must refuse it the same way and
    write nothing."""
    before = Comment.objects.count()
    web, api = web_post(user, article, body, parent), api_post(user, article, body, parent)
    assert Comment.objects.count() == before
    assert web.kind == api.kind != "posted", (web, api)
    if web.kind == "limited":  # the web page adds that the text is kept below it
        assert web.messages == [api.messages[0].removesuffix(".") + KEPT + "."]
    else:
        assert sorted(web.messages) == sorted(api.messages), (web, api)
    return web, api


# --- Who may post ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["Let me in", "", "bell \x07 here"])
def test_blocked_reader_is_refused_by_both(article, alice, bob, body):
    # Blocking is checked first: a blocked reader hears that, not what is wrong with the text.
    set_blocked(alice, True, reason="spam")
    web, api = both_refuse(alice, article, body)
    assert (web.status, api.status) == (403, 403)
    assert api.messages == [BLOCKED]


def test_blocked_reader_cannot_reply_through_either(article, alice, bob):
    thread = Comment.objects.create(article=article, author=bob, body="Open thread")
    set_blocked(alice, True)
    web, api = both_refuse(alice, article, "A reply", parent=thread.pk)
    assert (web.status, api.status) == (403, 403) and api.messages == [BLOCKED]
    assert not Comment.objects.filter(author=alice).exists()


# --- What is posted ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, message",
    [
        ("", EMPTY),
        ("  \n\t ", EMPTY),
        (" \u200b\u2060 ", EMPTY),
        ("bell \x07 here", CONTROL),
        ("sneaky \u202e txet", CONTROL),
        ("x" * 5001, "A comment can be at most 5,000 characters long (this one has 5,001)."),
        # Measured after \r\n becomes \n: 5,002 characters, not 6,669.
        (
            ("ab\r\n" * 1667) + "c",
            "A comment can be at most 5,000 characters long (this one has 5,002).",
        ),
    ],
)
def test_invalid_text_is_refused_by_both(article, alice, body, message):
    web, api = both_refuse(alice, article, body)
    assert (web.status, api.status) == (400, 422)
    assert api.messages == [message]


def test_longest_text_is_accepted_by_both(article, alice):
    # 5,000 characters once line ends are normalised (6,666 as sent).
    body = ("ab\r\n" * 1667).strip()
    web = web_post(alice, article, body)
    api = api_post(alice, make_article(2), body)
    assert (web.kind, api.kind) == ("posted", "posted")
    assert {len(c.body) for c in Comment.objects.all()} == {5000}


@pytest.mark.parametrize(
    "target, message",
    [
        ("missing", NO_PARENT),
        ("other_article", OTHER_ARTICLE),
        ("deleted", CLOSED),
        ("removed", CLOSED),
        ("hidden", CLOSED),
        ("pending", CLOSED),
        ("reply_in_hidden_thread", CLOSED),
    ],
)
def test_bad_reply_target_is_refused_by_both(article, alice, bob, target, message):
    status = {
        "deleted": Comment.Status.DELETED,
        "removed": Comment.Status.REMOVED,
        "hidden": Comment.Status.HIDDEN,
        "pending": Comment.Status.PENDING,
    }
    if target == "missing":
        parent = 999_999
    elif target == "other_article":
        parent = Comment.objects.create(article=make_article(2), author=bob, body="Over there").pk
    elif target == "reply_in_hidden_thread":
        top = Comment.objects.create(article=article, author=bob, body="Top", status=Comment.Status.HIDDEN)
        parent = Comment.objects.create(article=article, author=bob, parent=top, body="Reply").pk
    else:
        parent = Comment.objects.create(article=article, author=bob, body="Gone or held", status=status[target]).pk
    web, api = both_refuse(alice, article, "My reply", parent=parent)
    assert (web.status, api.status) == (400, 422)
    assert api.messages == [message]


def test_every_problem_is_reported_by_both(article, alice):
    _web, api = both_refuse(alice, article, "", parent=999_999)
    assert sorted(api.messages) == sorted([EMPTY, NO_PARENT])


def test_reply_to_a_reply_joins_the_thread_in_both(article, alice, bob):
    top = Comment.objects.create(article=article, author=bob, body="Top")
    reply = Comment.objects.create(article=article, author=bob, parent=top, body="Reply")
    web = web_post(alice, article, "From the web", parent=reply.pk)
    api = api_post(alice, article, "From the API", parent=reply.pk)
    assert (web.kind, api.kind) == ("posted", "posted")
    assert Comment.objects.get(pk=web.comment_id).parent == top
    assert Comment.objects.get(pk=api.comment_id).parent == top


# --- How often ---------------------------------------------------------------------------------


def test_flood_limit_is_refused_by_both(article, alice, settings):
    settings.NEWSDESK_COMMENTS_PER_MINUTE = 2
    # One limit for the reader, whichever client posted.
    assert web_post(alice, article, "One").kind == "posted"
    assert api_post(alice, article, "Two").kind == "posted"
    web, api = both_refuse(alice, article, "Three")
    assert (web.status, api.status) == (429, 429)
    assert api.messages[0].startswith("You have posted 2 comments in a minute, the most we accept.")
    assert KEPT not in api.messages[0]
    # A minute later, either client may post again.
    Comment.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert web_post(alice, article, "Four").kind == "posted"
    assert api_post(alice, article, "Five").kind == "posted"


def test_daily_limit_is_refused_by_both(article, alice, settings):
    settings.NEWSDESK_COMMENTS_PER_DAY = 3
    for n in range(3):
        Comment.objects.create(
            article=article,
            author=alice,
            body=f"earlier {n}",
            created_at=timezone.now() - timedelta(hours=20 - n),
        )
    web, api = both_refuse(alice, article, "Fourth today")
    assert (web.status, api.status) == (429, 429)
    assert "3 comments in a day" in api.messages[0] and "Please wait 4 hours" in api.messages[0]


def test_double_submit_is_one_comment_across_clients(article, alice, django_capture_on_commit_callbacks):
    with comments_changed_ids() as seen, django_capture_on_commit_callbacks(execute=True):
        web = web_post(alice, article, "Same words")
        api = api_post(alice, article, "Same words")
        again = web_post(alice, article, "Same words")
    assert (web.kind, api.kind, again.kind) == ("posted", "duplicate", "posted")
    assert web.comment_id == api.comment_id == again.comment_id
    assert Comment.objects.count() == 1
    assert seen == [article.pk]  # the page cache hears of the one new comment, once


def test_each_client_notifies_the_page_cache(alice, django_capture_on_commit_callbacks):
    first, second = make_article(1), make_article(2)
    with comments_changed_ids() as seen, django_capture_on_commit_callbacks(execute=True):
        web_post(alice, first, "On the first")
        api_post(alice, second, "On the second")
        set_blocked(alice, True)
        both_refuse(alice, first, "Refused")
    assert seen == [first.pk, second.pk]


# --- Moderation --------------------------------------------------------------------------------


def test_moderation_holds_the_same_comments_in_both(alice):
    newcomer = make_user("newcomer", days_old=0)
    links = "Deals at https://spam.example/a and https://spam.example/b"
    web = web_post(newcomer, make_article(1), links)
    api = api_post(newcomer, make_article(2), links)
    held = Comment.objects.filter(pk__in=[web.comment_id, api.comment_id])
    assert {(c.status, c.held_reason) for c in held} == {
        (Comment.Status.PENDING, "2 links from an account younger than 3 days")
    }
    # The same links from an established reader are published by both.
    web = web_post(alice, make_article(3), links)
    api = api_post(alice, make_article(4), links)
    published = Comment.objects.filter(pk__in=[web.comment_id, api.comment_id])
    assert {(c.status, c.held_reason) for c in published} == {(Comment.Status.PUBLISHED, "")}


def test_moderators_are_never_held_by_either():
    moderator = make_user("mod", days_old=0)
    moderator.groups.add(Group.objects.get(name="moderators"))
    links = " ".join(f"https://{n}.example" for n in range(8))
    web = web_post(moderator, make_article(1), links)
    api = api_post(moderator, make_article(2), links)
    statuses = Comment.objects.filter(pk__in=[web.comment_id, api.comment_id])
    assert [c.status for c in statuses] == [Comment.Status.PUBLISHED] * 2


# --- The service itself ------------------------------------------------------------------------


def test_service_posts_and_returns_the_double_submit(article, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = posting.post_comment(alice, article, "  Hello\r\nthere  ")
    assert first.created and len(callbacks) == 1  # comments_changed, after the commit
    comment = first.comment
    assert comment.body == "Hello\nthere" and comment.status == Comment.Status.PUBLISHED
    assert comment.author == alice and comment.article == article and comment.parent is None

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = posting.post_comment(alice, article, "Hello\nthere")
    assert not again.created and again.comment.pk == comment.pk and callbacks == []

    # Deleted comments are not "already posted".
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.DELETED)
    third = posting.post_comment(alice, article, "Hello\nthere")
    assert third.created and third.comment.pk != comment.pk

    reply = posting.post_comment(alice, article, "A reply", parent=third.comment.pk)
    nested = posting.post_comment(alice, article, "Nested", parent=reply.comment.pk)
    assert nested.comment.parent_id == third.comment.pk  # one level deep


def test_service_holds_link_spam_from_new_accounts(article):
    newcomer = make_user("newcomer", days_old=0)
    posted = posting.post_comment(newcomer, article, "https://a.example https://b.example")
    assert posted.comment.status == Comment.Status.PENDING
    assert posted.comment.held_reason == "2 links from an account younger than 3 days"


def test_service_refusals(article, alice, bob, settings):
    inactive = make_user("gone")
    inactive.is_active = False
    inactive.save()
    for nobody in (AnonymousUser(), inactive):
        with pytest.raises(posting.NotAllowed) as refused:
            posting.post_comment(nobody, article, "Hello")
        assert refused.value.code == "not_allowed"

    set_blocked(bob, True)
    with pytest.raises(posting.Blocked) as refused:
        posting.post_comment(bob, article, "")  # blocked first, whatever the text
    assert refused.value.message == BLOCKED and refused.value.code == "blocked"

    with pytest.raises(posting.InvalidComment) as refused:
        posting.post_comment(alice, article, " \u200b ", parent=999_999)
    assert refused.value.problems == (
        posting.Problem("body", "empty", EMPTY),
        posting.Problem("parent", "no_parent", NO_PARENT),
    )
    top = Comment.objects.create(article=article, author=bob, body="Held", status=Comment.Status.PENDING)
    with pytest.raises(posting.InvalidComment) as refused:
        posting.post_comment(alice, article, "Reply", parent=top.pk)
    assert refused.value.codes == ["closed"]
    with pytest.raises(posting.InvalidComment) as refused:
        posting.post_comment(alice, make_article(2), "Reply", parent=top.pk)
    assert refused.value.codes == ["other_article"]
    with pytest.raises(posting.InvalidComment) as refused:
        posting.post_comment(alice, article, "x" * (posting.MAX_LENGTH + 1))
    assert refused.value.codes == ["too_long"]

    settings.NEWSDESK_COMMENTS_PER_MINUTE = 1
    posting.post_comment(alice, article, "One")
    with pytest.raises(posting.RateLimited) as refused:
        posting.post_comment(alice, article, "Two")
    assert refused.value.message.startswith("You have posted 1 comments in a minute")
    assert refused.value.message.endswith("before posting again.")
    # At the limit, the same text again is refused too: the limit comes first.
    with pytest.raises(posting.RateLimited):
        posting.post_comment(alice, article, "One")

    for error in (posting.NotAllowed, posting.Blocked, posting.InvalidComment):
        assert issubclass(error, posting.Refused)
    assert issubclass(posting.RateLimited, posting.Refused)
    assert list(Comment.objects.filter(author=alice).values_list("body", flat=True)) == ["One"]
