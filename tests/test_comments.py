"""Comments: posting, replies, editing, deleting, reports, moderation, limits, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from newsdesk.accounts.models import is_blocked, set_blocked
from newsdesk.articles.models import Article
from newsdesk.comments.models import Comment, Report
from newsdesk.comments.signals import comments_changed
from newsdesk.sources.models import Source

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


@contextmanager
def comments_changed_ids() -> Iterator[list[int]]:
    """The article ids `comments_changed` is sent for while the block runs."""
    seen: list[int] = []

    def receiver(sender, article_id, **kwargs):
        seen.append(article_id)

    comments_changed.connect(receiver)
    try:
        yield seen
    finally:
        comments_changed.disconnect(receiver)


def make_article(n: int = 1) -> Article:
    source, _ = Source.objects.get_or_create(
        slug="rt", defaults={"name": "Russia Today", "home_url": "https://www.rt.com/"}
    )
    return Article.objects.create(
        source=source,
        url=f"https://www.rt.com/news/{n}/",
        title=f"Russia prepared to wait {n}",
        body_text="Putin said.",
        content_hash=f"h{n}",
        published_at=timezone.now(),
    )


def make_user(name: str, *, days_old: int = 30) -> User:
    user = User.objects.create_user(name, f"{name}@example.org")  # no password: force_login
    user.date_joined = timezone.now() - timedelta(days=days_old)
    user.save(update_fields=["date_joined"])
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def article():
    return make_article()


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def bob():
    return make_user("bob")


@pytest.fixture
def moderator():
    user = make_user("mod")
    user.groups.add(Group.objects.get(name="moderators"))
    return user


def page(article, client: Client | None = None) -> str:
    response = (client or Client()).get(reverse("comments:article", args=[article.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post(client: Client, article, body: str, parent=None):
    data = {"body": body}
    if parent is not None:
        data["parent"] = parent
    return client.post(reverse("comments:article", args=[article.pk]), data)


def test_empty_section_for_anonymous_readers(article):
    html = page(article)
    assert '<h2 id="comments-title">Comments <span class="comment-count">(0)</span></h2>' in html
    assert "No comments yet..." in html
    assert "Log in to comment" in html
    assert f"/accounts/login/?next=/articles/{article.pk}/%23comments" in html
    assert "<textarea" not in html and "csrfmiddlewaretoken" not in html


def test_section_include_renders_on_another_page(article, alice):
    request = RequestFactory().get(article.get_absolute_url())
    request.user = alice
    html = render_to_string("comments/_section.html", {"article": article, "user": alice}, request=request)
    assert 'id="comments"' in html and "Add a comment" in html and "csrfmiddlewaretoken" in html


def test_anonymous_post_goes_to_login(article):
    response = post(Client(), article, "hello")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Comment.objects.count() == 0


def test_comment_reply_and_counts(article, alice, bob):
    response = post(signed_in(alice), article, "First!\nSecond line.")
    comment = Comment.objects.get()
    assert response["Location"] == f"/articles/{article.pk}/#comment-{comment.pk}"
    assert comment.body == "First!\nSecond line." and comment.status == Comment.Status.PUBLISHED

    response = post(signed_in(bob), article, "A reply", parent=comment.pk)
    reply = Comment.objects.get(parent=comment)
    assert response["Location"].endswith(f"#comment-{reply.pk}")
    # A reply to a reply joins the top-level thread.
    post(signed_in(alice), article, "Reply to the reply", parent=reply.pk)
    assert Comment.objects.filter(parent=comment).count() == 2

    html = page(article)
    assert "(3)" in html and "No comments yet" not in html
    assert "<p>First!<br>Second line.</p>" in html
    assert html.index("First!") < html.index("A reply") < html.index("Reply to the reply")
    assert 'class="comment-replies"' in html


def test_double_submit_posts_once(article, alice):
    client = signed_in(alice)
    first, second = post(client, article, "Same words"), post(client, article, "Same words")
    assert Comment.objects.count() == 1 and first["Location"] == second["Location"]


def test_comments_changed_signal(article, alice, django_capture_on_commit_callbacks):
    with comments_changed_ids() as seen, django_capture_on_commit_callbacks(execute=True):
        post(signed_in(alice), article, "Signal me")
    assert seen == [article.pk]


def test_edit_own_comment_only(article, alice, bob):
    post(signed_in(alice), article, "Orginal text")
    comment = Comment.objects.get()
    url = reverse("comments:edit", args=[comment.pk])
    assert "Orginal text" in signed_in(alice).get(url).content.decode()
    response = signed_in(alice).post(url, {"body": "Original text"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Original text" and comment.edited_at is not None
    assert "(edited)" in page(article)

    assert signed_in(bob).get(url).status_code == 403
    assert signed_in(bob).post(url, {"body": "Vandalised"}).status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Original text"


def test_delete_own_comment(article, alice, bob):
    post(signed_in(alice), article, "Lonely comment")
    lonely = Comment.objects.get()
    assert signed_in(bob).post(reverse("comments:delete", args=[lonely.pk])).status_code == 403
    assert "Delete your comment?" in signed_in(alice).get(reverse("comments:delete", args=[lonely.pk])).content.decode()
    assert signed_in(alice).post(reverse("comments:delete", args=[lonely.pk])).status_code == 302
    lonely.refresh_from_db()
    assert lonely.status == Comment.Status.DELETED and lonely.body == ""
    html = page(article)
    assert "Lonely comment" not in html and "[deleted]" not in html and "No comments yet..." in html


def test_deleted_comment_with_replies_leaves_placeholder(article, alice, bob):
    post(signed_in(alice), article, "Parent text")
    parent = Comment.objects.get()
    post(signed_in(bob), article, "Child text", parent=parent.pk)
    signed_in(alice).post(reverse("comments:delete", args=[parent.pk]))
    html = page(article)
    assert "[deleted]" in html and "Parent text" not in html and "Child text" in html
    # A deleted comment takes no new replies.
    response = post(signed_in(bob), article, "Too late", parent=parent.pk)
    assert response.status_code == 400 and "no longer open for replies" in response.content.decode()


def test_report_once(article, alice, bob):
    post(signed_in(alice), article, "Questionable")
    comment = Comment.objects.get()
    url = reverse("comments:report", args=[comment.pk])
    assert signed_in(alice).get(url).status_code == 403  # not your own
    client = signed_in(bob)
    assert "What is wrong with this comment?" in client.get(url).content.decode()
    assert client.post(url, {"reason": "nonsense"}).status_code == 400
    assert client.post(url, {"reason": "spam", "details": "buy now"}).status_code == 302
    response = client.post(url, {"reason": "abuse"})
    assert response.status_code == 409 and "already reported" in response.content.decode()
    report = Report.objects.get()
    assert (report.reason, report.details, report.reporter) == ("spam", "buy now", bob)
    assert "Reported" in page(article, client)


def test_moderator_hides_unhides_removes_from_page(article, alice, bob, moderator):
    post(signed_in(alice), article, "Rude words")
    comment = Comment.objects.get()
    Report.objects.create(comment=comment, reporter=bob, reason="abuse")
    hide = reverse("comments:moderate", args=[comment.pk, "hide"])

    assert signed_in(bob).post(hide).status_code == 403
    assert "/moderate/" not in page(article, signed_in(bob))
    mod = signed_in(moderator)
    assert f'action="{hide}"' in page(article, mod)
    assert mod.post(hide).status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN and comment.moderated_by == moderator
    assert Report.objects.get().resolved
    assert "Rude words" not in page(article) and "Rude words" in page(article, mod)

    mod.post(reverse("comments:moderate", args=[comment.pk, "unhide"]))
    assert "Rude words" in page(article)

    assert "Remove this comment?" in mod.get(reverse("comments:moderate", args=[comment.pk, "remove"])).content.decode()
    mod.post(reverse("comments:moderate", args=[comment.pk, "remove"]))
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED and comment.body == ""
    assert signed_in(moderator).post(reverse("comments:moderate", args=[comment.pk, "unhide"])).status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED  # removal is final


def test_moderator_blocks_author_from_page(article, alice, moderator):
    post(signed_in(alice), article, "Spammy")
    comment = Comment.objects.get()
    block = reverse("comments:moderate", args=[comment.pk, "block"])
    assert signed_in(alice).post(block).status_code == 403
    assert signed_in(moderator).post(block).status_code == 302
    assert is_blocked(alice)
    # Moderators are not blocked by one another.
    post(signed_in(moderator), article, "Mod comment")
    mine = Comment.objects.get(author=moderator)
    other = make_user("mod2")
    other.groups.add(Group.objects.get(name="moderators"))
    assert signed_in(other).post(reverse("comments:moderate", args=[mine.pk, "block"])).status_code == 403
    assert not is_blocked(moderator)


def test_blocked_user_cannot_comment(article, alice, bob):
    post(signed_in(bob), article, "Open thread")
    set_blocked(alice, True)
    client = signed_in(alice)
    response = post(client, article, "Let me in")
    assert response.status_code == 403 and "blocked from commenting" in response.content.decode()
    response = post(client, article, "Let me reply", parent=Comment.objects.get().pk)
    assert response.status_code == 403
    html = page(article, client)
    assert "blocked from commenting" in html and "Add a comment" not in html and "Reply</summary>" not in html
    assert Comment.objects.filter(author=alice).count() == 0


def test_admin_actions(article, alice, bob, moderator):
    moderator.is_staff = True
    moderator.save()
    admin = signed_in(moderator)
    post(signed_in(alice), article, "One")
    post(signed_in(alice), article, "Two")
    one, two = Comment.objects.order_by("id")
    Report.objects.create(comment=one, reporter=bob, reason="spam")
    changelist = reverse("admin:comments_comment_changelist")

    html = admin.get(changelist + "?reported=open").content.decode()
    assert (
        f"/admin/comments/comment/{one.pk}/change/" in html and f"/admin/comments/comment/{two.pk}/change/" not in html
    )

    def act(action, *comments):
        response = admin.post(changelist, {"action": action, "_selected_action": [c.pk for c in comments]})
        assert response.status_code == 302

    act("hide", one, two)
    assert set(Comment.objects.values_list("status", flat=True)) == {"hidden"}
    assert admin.get(changelist + "?hidden=yes").status_code == 200
    act("unhide", one)
    one.refresh_from_db()
    assert one.status == "published"
    act("remove", two)
    two.refresh_from_db()
    assert two.status == "removed" and two.body == ""
    act("block_author", one)
    assert is_blocked(alice)

    # Staff without the moderation permission do not get the actions.
    bob.is_staff = True
    bob.save()
    bob.user_permissions.add(*Group.objects.get(name="moderators").permissions.exclude(codename="moderate_comment"))
    signed_in(bob).post(changelist, {"action": "hide", "_selected_action": [one.pk]})
    one.refresh_from_db()
    assert one.status == "published"


def test_rate_limit_per_minute(article, alice):
    client = signed_in(alice)
    for n in range(5):
        assert post(client, article, f"Comment number {n}").status_code == 302
    response = post(client, article, "One too many")
    html = response.content.decode()
    assert response.status_code == 429
    assert "You have posted 5 comments in a minute" in html and "Please wait 1 minute" in html
    assert "One too many" in html  # the text is kept in the form
    assert Comment.objects.count() == 5
    # A minute later the reader may post again.
    Comment.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert post(client, article, "Back again").status_code == 302


def test_rate_limit_per_day(article, alice, settings):
    settings.NEWSDESK_COMMENTS_PER_DAY = 3
    for n in range(3):
        Comment.objects.create(
            article=article,
            author=alice,
            body=f"earlier {n}",
            created_at=timezone.now() - timedelta(hours=20 - n),
        )
    response = post(signed_in(alice), article, "Fourth today")
    assert response.status_code == 429 and "3 comments in a day" in response.content.decode()
    assert "Please wait 4 hours" in response.content.decode()


def test_link_heavy_comment_from_new_account_is_held(article, moderator):
    newbie = make_user("newbie", days_old=0)
    client = signed_in(newbie)
    post(client, article, "Deals at https://spam.example/a and https://spam.example/b")
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING and "2 links" in comment.held_reason
    assert "spam.example" not in page(article)
    assert "Awaiting moderation" in page(article, client)  # its author sees it, marked
    assert "1 comment awaiting moderation" in page(article, signed_in(moderator))
    signed_in(moderator).post(reverse("comments:moderate", args=[comment.pk, "approve"]))
    assert "spam.example" in page(article)


def test_links_from_established_account_are_published(article, alice):
    post(signed_in(alice), article, "See https://a.example/ and https://b.example/")
    assert Comment.objects.get().status == Comment.Status.PUBLISHED


def test_hostile_text_is_rendered_as_text(article, alice):
    body = (
        "<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n"
        '<a href="javascript:alert(1)">click</a> javascript:alert(2) https://example.org/page'
    )
    post(signed_in(alice), article, body)
    assert Comment.objects.get().body == body  # stored as typed
    html = page(article)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html and "&lt;a href=&quot;javascript:alert(1)&quot;&gt;" in html
    assert '<a href="https://example.org/page" rel="nofollow ugc noopener">https://example.org/page</a>' in html


def test_csrf_is_enforced(article, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert post(client, article, "No token").status_code == 403
    assert Comment.objects.count() == 0
    page(article, client)  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("comments:article", args=[article.pk]),
        {"body": "With token", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and Comment.objects.count() == 1


@pytest.mark.parametrize(
    "body, parent, message",
    [
        ("", None, "Write something before posting."),
        ("   \n\t  ", None, "Write something before posting."),
        ("\u200b\u200b", None, "Write something before posting."),
        ("x" * 5001, None, "at most 5,000 characters"),
        ("bell \x07 here", None, "control characters"),
        ("sneaky \u202e txet", None, "control characters"),
        ("a reply", "abc", "Enter a whole number."),
        ("a reply", 999999, "does not exist"),
    ],
)
def test_malformed_comments_are_refused(article, alice, body, parent, message):
    response = post(signed_in(alice), article, body, parent=parent)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Comment.objects.count() == 0


def test_reply_to_another_articles_comment_is_refused(article, alice, bob):
    elsewhere = make_article(2)
    post(signed_in(bob), elsewhere, "Over there")
    foreign = Comment.objects.get()
    response = post(signed_in(alice), article, "Cross-post", parent=foreign.pk)
    assert response.status_code == 400 and "belongs to another article" in response.content.decode()
    assert Comment.objects.count() == 1


def test_longest_comment_is_accepted(article, alice):
    assert post(signed_in(alice), article, "y" * 5000).status_code == 302
    assert len(Comment.objects.get().body) == 5000


def test_unknown_moderation_action_and_missing_comment(article, moderator):
    client = signed_in(moderator)
    assert client.post(reverse("comments:moderate", args=[12345, "hide"])).status_code == 404
    post(signed_in(moderator), article, "x")
    assert client.post(reverse("comments:moderate", args=[Comment.objects.get().pk, "explode"])).status_code == 404
