"""Briefing and alert emails sent to a real SMTP server on 127.0.0.1 (aiosmtpd) and read
as they arrived: the reader's hour in their time zone, at most one email per period,
plain text and HTML with absolute links, one-click unsubscribe (RFC 8058) by POST and a
confirming page by GET, and sending that neither loses nor doubles an email when the
server fails in the middle of a batch."""

from __future__ import annotations

import email
import re
import socket
import threading
from datetime import datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from newsdesk.reader.briefings import fanout, mail, notifications, tokens
from newsdesk.reader.briefings.models import AlertMark, BriefingSettings, Delivery
from newsdesk.reader.briefings.tasks import plan_mail_task, send_mail_task
from tests import briefing_data as data

pytestmark = pytest.mark.django_db
Kind = data.Kind
SITE = "https://news.example.org"
NEW_YORK = ZoneInfo("America/New_York")


class Inbox:
    """What the SMTP server received, and what it answers: `script` maps the n-th
    message (from 1) to a reply and whether the message counts as delivered anyway."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.script: dict[int, tuple[str, bool]] = {}
        self.refuse: set[str] = set()
        self.sessions = 0
        self.attempts = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            reply, keep = self.script.get(self.attempts, ("250 2.0.0 OK", True))
            if keep:
                self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return reply

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(settings):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "newsdesk <briefings@news.example.org>"
    settings.NEWSDESK_SITE_URL = SITE
    cache.clear()
    yield handler
    controller.stop()


@pytest.fixture
def world():
    return data.summarised_world()


def subscriber(name: str, *, hour: int = 7, zone: str = "America/New_York", briefing: bool = True, alerts: str = "off"):
    user = data.reader(name)
    BriefingSettings.objects.create(
        user=user, briefing_email=briefing, briefing_hour=hour, time_zone=zone, alerts_interval=alerts
    )
    return user


def at(hour: int, minute: int = 0, *, day: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    """A moment of today (plus `day` days) at this local hour."""
    local = timezone.now().astimezone(zone).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local + timedelta(days=day)


def deliver(now: datetime) -> list[int]:
    """What the planner task does at `now`: plan, then run the sending tasks."""
    ids = mail.plan(now)
    if ids:
        send_mail_task.call(ids)
    return ids


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


# --- the daily briefing ------------------------------------------------------------------------


def test_the_briefing_arrives_at_the_readers_hour_with_both_parts_and_absolute_links(world, inbox):
    main, grain = world
    alice = subscriber("alice")
    data.follow(alice, Kind.STORY, main.story.pk, seen_at=timezone.now())
    new = data.coverage(
        "dw", 71, title="Prisoner exchange agreed in Istanbul", body=data.BODIES["ceasefire"], story=main.story
    )

    assert deliver(at(6, 50)) == [] and not inbox.messages  # not yet seven in New York
    assert len(deliver(at(7, 5))) == 1
    [message] = inbox.messages
    delivery = Delivery.objects.get(user=alice)
    assert delivery.state == Delivery.State.SENT and delivery.period == at(7, 5).date().isoformat()
    assert message["To"] == "alice@example.org" and message["From"] == "newsdesk <briefings@news.example.org>"
    assert message["Subject"].startswith("Your briefing for ")
    assert message["Message-ID"] == delivery.message_id and delivery.message_id.endswith("@news.example.org>")
    unsubscribe = f"{SITE}/reading/briefing/unsubscribe/{tokens.unsubscribe_token(alice.pk, 'briefing')}/"
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    # Both parts: what is new on her story (only the new article's sentences), then the top stories.
    for part in (text, html):
        assert "what's new on the stories you follow" in part.replace("’", "'").lower()
        assert f"{SITE}/articles/{new.pk}/" in part and grain.title in part
        assert unsubscribe in part and f"{SITE}/reading/briefing/settings/" in part
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(SITE + "/") for link in links), [x for x in links if not x.startswith(SITE)]
    assert not [u for u in re.findall(r"https?://\S+", text) if not u.startswith(SITE)]
    for story in delivery.content["site"]:
        for line in story["sentences"]:
            assert f"{SITE}/articles/{line['article']}/" in html and f"{SITE}/articles/{line['article']}/" in text

    # At most one a day, however often the planner runs; the next day's says only what is newer.
    assert deliver(at(8, 30)) == [] and deliver(at(12, 0)) == []
    assert len(inbox.messages) == 1
    assert len(deliver(at(7, 1, day=1))) == 1
    second = Delivery.objects.get(user=alice, period=at(7, 1, day=1).date().isoformat())
    assert second.content["personal"] == []  # nothing arrived since the first email
    assert len(inbox.messages) == 2


def test_unsubscribe_by_one_click_post_and_by_the_page(world, inbox):
    alice = subscriber("alice", alerts="hourly")
    deliver(at(7, 5))
    url = inbox.messages[0]["List-Unsubscribe"].strip().strip("<>")
    path = url.removeprefix(SITE)
    mail_client = Client(enforce_csrf_checks=True)  # a mail client: no cookie, no CSRF token
    # GET (a person, or a scanner following links) shows a button and changes nothing.
    page = mail_client.get(path)
    assert page.status_code == 200 and "Stop the daily briefing emails?" in page.content.decode()
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    assert BriefingSettings.objects.get(user=alice).briefing_email
    # RFC 8058: POST with List-Unsubscribe=One-Click.
    for _ in range(2):
        response = mail_client.post(path, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200 and "Unsubscribed" in response.content.decode()
    row = BriefingSettings.objects.get(user=alice)
    assert not row.briefing_email and row.alerts_interval == "hourly"  # only what the link names
    assert deliver(at(7, 5, day=1)) == []
    # The page's own button does the same for the alerts link.
    alerts_path = f"/reading/briefing/unsubscribe/{tokens.unsubscribe_token(alice.pk, 'alerts')}/"
    page = mail_client.get(alerts_path).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    assert action == alerts_path
    mail_client.post(action, {"List-Unsubscribe": "One-Click"})
    assert BriefingSettings.objects.get(user=alice).alerts_interval == "off"
    # A link that is not ours does nothing.
    forged = alerts_path.replace(str(alice.pk) + ".", str(alice.pk + 1) + ".", 1)
    assert mail_client.post(forged).status_code == 404
    assert mail_client.get("/reading/briefing/unsubscribe/nonsense/").status_code == 404


def test_no_email_without_an_address_or_when_there_is_nothing_to_say(inbox):
    subscriber("nobody")  # no story anywhere: the briefing would be empty
    silent = subscriber("silent")
    silent.email = ""
    silent.save()
    assert deliver(at(7, 5)) != []
    assert not inbox.messages
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SKIPPED}
    assert not Delivery.objects.filter(user=silent).exists()


# --- alert emails --------------------------------------------------------------------------------


def alert_article(n: int):
    item = data.coverage("dw", n, title=f"Odesa grain {n}", body=data.BODIES["grain"], hashtags=(("odesa", "Odesa"),))
    for batch in fanout.plan():
        fanout.run(batch)
    return item


def test_alert_emails_come_at_most_once_an_hour_and_tell_only_what_is_new(world, inbox):
    fanout.plan()
    bob = subscriber("bob", briefing=False, alerts="hourly")
    data.follow(bob, Kind.HASHTAG, "odesa", "#Odesa")
    first = alert_article(81)
    hour = timezone.now().replace(minute=5, second=0, microsecond=0)
    assert len(deliver(hour)) == 1
    [message] = inbox.messages
    assert message["Subject"] == "1 new article on 1 thing you follow"
    text, html = parts(message)
    assert "#Odesa" in text and f"{SITE}/articles/{first.pk}/" in html and f"{SITE}/hashtags/odesa/" in html
    assert (
        message["List-Unsubscribe"].strip()
        == f"<{SITE}/reading/briefing/unsubscribe/{tokens.unsubscribe_token(bob.pk, 'alerts')}/>"
    )
    assert AlertMark.objects.get(user=bob).mailed_at == Delivery.objects.get(user=bob).made_at
    # Two more within the hour: no email until the next hour, which tells both and only them.
    second = alert_article(82)
    alert_article(83)
    assert deliver(hour + timedelta(minutes=30)) == []
    assert len(deliver(hour + timedelta(hours=1))) == 1
    later = inbox.messages[1]
    assert later["Subject"] == "2 new articles on 1 thing you follow"
    assert "2 new articles" in parts(later)[0]
    assert notifications.gather(bob.pk)[0].count == 3  # still unread on the site: mailed is not read
    # Read on the site before the next hour: nothing to email.
    alert_article(84)
    notifications.mark_read(bob.pk)
    assert deliver(hour + timedelta(hours=2)) == []
    assert len(inbox.messages) == 2
    assert second.pk  # (used above through the hashtag's count)


def test_daily_alert_emails_come_at_the_briefing_hour(world, inbox):
    fanout.plan()
    carol = subscriber("carol", briefing=False, alerts="daily", hour=18, zone="Asia/Tokyo")
    data.follow(carol, Kind.HASHTAG, "odesa", "#Odesa")
    alert_article(91)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert deliver(at(17, 0, zone=tokyo)) == []
    assert len(deliver(at(18, 10, zone=tokyo))) == 1
    alert_article(92)
    assert deliver(at(23, 0, zone=tokyo)) == []
    assert len(deliver(at(18, 10, day=1, zone=tokyo))) == 1
    assert [m["To"] for m in inbox.messages] == ["carol@example.org"] * 2


def test_the_mail_planner_task_sends_through_the_queue(world, inbox, settings):
    subscriber("dora", hour=timezone.now().astimezone(NEW_YORK).hour)
    result = plan_mail_task.call()
    assert result == {"emails": 1}
    from django_tasks_db.models import DBTaskResult

    [row] = DBTaskResult.objects.filter(task_path=send_mail_task.module_path)
    send_mail_task.call(*row.args_kwargs["args"])
    assert [m["To"] for m in inbox.messages] == ["dora@example.org"]


# --- crash safety ----------------------------------------------------------------------------------


def readers(n: int, **kwargs) -> list:
    return [subscriber(f"reader{i}", **kwargs) for i in range(n)]


def expire_leases() -> None:
    Delivery.objects.filter(state=Delivery.State.PENDING).update(leased_until=timezone.now() - timedelta(days=3))


def test_a_refusal_mid_batch_loses_nothing_and_doubles_nothing(world, inbox):
    people = readers(5)
    inbox.script = {3: ("451 4.3.0 Try again later", False)}
    ids = mail.plan(at(7, 5))
    outcome = mail.send(ids, at(7, 5))
    assert len(outcome.sent) == 4 and len(outcome.deferred) == 1
    assert mail.plan(at(7, 10)) == []  # its lease has not run out: nobody sends it twice meanwhile
    expire_leases()
    again = mail.plan(at(7, 20))
    assert again == outcome.deferred
    mail.send(again)
    received = sorted(m["To"] for m in inbox.messages)
    assert received == sorted(p.email for p in people)  # each exactly once
    assert Delivery.objects.filter(state=Delivery.State.SENT).count() == 5


def test_a_dropped_connection_stops_the_batch_and_the_rest_follows(world, inbox):
    people = readers(4)
    inbox.script = {2: ("421 4.4.2 Closing connection", False)}
    ids = mail.plan(at(7, 5))
    outcome = mail.send(ids)
    assert len(outcome.sent) == 1
    pending = Delivery.objects.filter(state=Delivery.State.PENDING).count()
    assert pending == 3
    expire_leases()
    mail.send(mail.plan(at(7, 30)))
    assert sorted(m["To"] for m in inbox.messages) == sorted(p.email for p in people)


def test_a_message_the_server_kept_but_did_not_confirm_is_sent_again_identically(world, inbox):
    """The one window no SMTP sender can close: the server took the message but the
    sender never learned it (here: it answered 451 after keeping it). The retry is the
    same email under the same Message-ID, by which mail stores drop the copy."""
    [person] = readers(1)
    inbox.script = {1: ("451 4.3.0 Try again later", True)}
    mail.send(mail.plan(at(7, 5)))
    data.coverage("ap", 99, title="Something changed since", body=data.BODIES["harbour"])  # content is fixed
    expire_leases()
    mail.send(mail.plan(at(7, 30)))
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"] == Delivery.objects.get(user=person).message_id
    assert parts(first) == parts(second) and first["Subject"] == second["Subject"]
    assert Delivery.objects.get(user=person).state == Delivery.State.SENT


def test_an_address_refused_for_good_is_not_retried(world, inbox):
    [person] = readers(1)
    inbox.refuse = {person.email}
    mail.send(mail.plan(at(7, 5)))
    delivery = Delivery.objects.get(user=person)
    assert delivery.state == Delivery.State.FAILED and "550" in delivery.error
    expire_leases()
    assert mail.plan(at(7, 30)) == []


def test_planning_twice_plans_once(world, inbox):
    readers(3)
    first = mail.plan(at(7, 5))
    second = mail.plan(at(7, 6))
    assert len(first) == 3 and second == [] and Delivery.objects.count() == 3


def test_a_batch_goes_over_one_connection(world, inbox):
    readers(30)
    mail.send(mail.plan(at(7, 5)))
    assert len(inbox.messages) == 30 and inbox.sessions == 1
