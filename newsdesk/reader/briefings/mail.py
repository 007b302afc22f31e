"""Briefing and alert emails: who is owed one, what it says, sending it once.

Planning (`plan`, in a task every NEWSDESK_MAIL_PLAN_EVERY seconds) creates a Delivery
row for each email owed now: a briefing when the reader's hour has come in their time
zone (and up to NEWSDESK_BRIEFING_CATCH_UP_HOURS later, if the scheduler was down), an
alert email when they have notifications no email has told them of, at most one per
clock hour (hourly) or per local day at their briefing hour (daily). The row's unique
(reader, kind, period) makes a second email for the same period impossible, whoever
plans it and however often.

Sending (`send`, in tasks of NEWSDESK_MAIL_BATCH emails over one SMTP connection):

1. the email's content is taken and stored on the row, with its Message-ID, before
   anything is sent; an alert email's content lists each notification with the count
   it reports;
2. the message goes to the SMTP server (outbox.py: in a thread, while the next emails
   are rendered);
3. after the server accepted it, a transaction marks the row sent and each
   notification mailed up to the count the email reported (not the count it has now:
   articles that arrived meanwhile are in the next email).

Steps 1 and 3 are written CHUNK emails at a time. A crash before 3 leaves the row
pending; when its lease runs out the planner queues it again, and it is sent from the
stored content with the same Message-ID. So nothing is lost, and nothing is sent twice
except the emails the server accepted since the last commit of step 3 (at most a
chunk and the outbox's queue: tens of milliseconds of sending): such a duplicate has
the same Message-ID, by which mail stores and clients drop a copy. No SMTP sender can do better
without the receiving server's help; marking sent before sending would turn that rare
duplicate into a rare lost email. A server that refuses an address for good (5xx) ends
the row as FAILED; a passing refusal (4xx, a dropped connection) leaves it for the retry.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings import notifications, outbox, personal, preferences, site, tokens
from newsdesk.reader.briefings.models import Activity, AlertInterval, BriefingSettings, Delivery, SiteBriefing
from newsdesk.reader.models import Interest

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
ALERT_ITEMS = 50  # notifications one alert email lists; it says how many more there are
CHUNK = 10  # emails whose contents, and then answers, are written in one transaction


def absolute(path: str) -> str:
    return settings.NEWSDESK_SITE_URL + path


def lease() -> timedelta:
    return timedelta(seconds=settings.NEWSDESK_MAIL_LEASE)


BRIEFING, ALERTS = str(Delivery.Kind.BRIEFING), str(Delivery.Kind.ALERTS)


def hour_period(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


# --- planning ----------------------------------------------------------------------------


def _due_hours(local_hour: int) -> list[int]:
    """Chosen hours whose email is due at this local hour (catching up a few hours)."""
    window = max(1, settings.NEWSDESK_BRIEFING_CATCH_UP_HOURS)
    return [h for h in range(24) if 0 <= local_hour - h < window]


def _owed(kind: str, period: str) -> Exists:
    return Exists(Delivery.objects.filter(user_id=OuterRef("user_id"), kind=kind, period=period))


def _unmailed() -> Exists:
    """Has the reader anything new under what they follow since they read it and since
    the last alert email? (Mutes are applied when the email is made: one whose news was
    all muted is skipped.)"""
    interests = Interest.objects.filter(
        user_id=OuterRef("user_id"), muted=False, kind__in=notifications.KINDS
    ).annotate(since=Greatest(notifications.read_since_sql(), Coalesce("alert_mark__mailed_at", "seen_at")))
    news = Activity.objects.filter(kind=OuterRef("kind"), key=OuterRef("key"), at__gt=OuterRef("since"))
    return Exists(interests.filter(Exists(news)))


def due(now: datetime) -> list[tuple[int, str, str]]:
    """(user id, kind, period) of every email owed now and not yet planned."""
    found: list[tuple[int, str, str]] = []
    with_address = BriefingSettings.objects.exclude(user__email="").filter(user__is_active=True)
    briefing = with_address.filter(briefing_email=True)
    for name in briefing.values_list("time_zone", flat=True).distinct().order_by():
        local = now.astimezone(preferences.zone(name))
        period = local.date().isoformat()
        users = (
            briefing.filter(time_zone=name, briefing_hour__in=_due_hours(local.hour))
            .exclude(_owed(BRIEFING, period))
            .values_list("user_id", flat=True)
        )
        found += [(user, BRIEFING, period) for user in users]
    hourly = hour_period(now)
    users = (
        with_address.filter(alerts_interval=AlertInterval.HOURLY)
        .filter(_unmailed())
        .exclude(_owed(ALERTS, hourly))
        .values_list("user_id", flat=True)
    )
    found += [(user, ALERTS, hourly) for user in users]
    daily = with_address.filter(alerts_interval=AlertInterval.DAILY)
    for name in daily.values_list("time_zone", flat=True).distinct().order_by():
        local = now.astimezone(preferences.zone(name))
        period = local.date().isoformat()
        users = (
            daily.filter(time_zone=name, briefing_hour__in=_due_hours(local.hour))
            .filter(_unmailed())
            .exclude(_owed(ALERTS, period))
            .values_list("user_id", flat=True)
        )
        found += [(user, ALERTS, period) for user in users]
    return found


def plan(now: datetime | None = None) -> list[int]:
    """Create the rows of the emails owed now; the ids of every pending email to send
    (these, and those whose sending task died: their lease ran out)."""
    now = now or timezone.now()
    owed = due(now)
    Delivery.objects.bulk_create(
        [Delivery(user_id=user, kind=kind, period=period, leased_until=now + lease()) for user, kind, period in owed],
        ignore_conflicts=True,
        batch_size=500,
    )
    fresh: list[int] = []
    by_period: dict[tuple[str, str], list[int]] = {}
    for user, kind, period in owed:
        by_period.setdefault((kind, period), []).append(user)
    for (kind, period), users in by_period.items():
        for start in range(0, len(users), 500):
            fresh += Delivery.objects.filter(
                kind=kind, period=period, user_id__in=users[start : start + 500], state=Delivery.State.PENDING
            ).values_list("pk", flat=True)
    return sorted(set(fresh) | set(_expired(now)))


def _expired(now: datetime) -> list[int]:
    """Pending emails whose sender died or gave up for now: leased again, or failed for
    good after MAX_ATTEMPTS."""
    rows = Delivery.objects.filter(state=Delivery.State.PENDING, leased_until__lt=now)
    rows.filter(attempts__gte=MAX_ATTEMPTS).update(state=Delivery.State.FAILED)
    ids = list(rows.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:10_000])
    Delivery.objects.filter(pk__in=ids).update(leased_until=now + lease())
    return ids


def prune(now: datetime | None = None) -> None:
    """Sent emails keep their row (it holds the period) for 90 days, their content for 2."""
    now = now or timezone.now()
    Delivery.objects.filter(created_at__lt=now - timedelta(days=90)).exclude(state=Delivery.State.PENDING).delete()
    Delivery.objects.filter(sent_at__lt=now - timedelta(days=2), content__isnull=False).update(content=None)


# --- content -----------------------------------------------------------------------------


@dataclass
class Batch:
    """What a batch's briefing emails need of each reader, read for the whole batch in a
    few queries: read per email, building those queries was most of an email's CPU time
    (NEWSDESK_MAIL_BATCH emails share them)."""

    choices: dict[int, BriefingSettings]
    previous: dict[int, datetime]  # when the reader's last sent briefing email was made
    mutes: dict[int, mute_rules.Mutes]
    stories: dict[int, personal.Followed]
    today: SiteBriefing | None

    @classmethod
    def read(cls, user_ids: list[int], *, briefings: bool) -> Batch:
        previous = (
            dict(
                Delivery.objects.filter(user_id__in=user_ids, kind=Delivery.Kind.BRIEFING, state=Delivery.State.SENT)
                .values("user_id")
                .annotate(last=Max("made_at"))
                .values_list("user_id", "last")
                .order_by()
            )
            if briefings
            else {}
        )
        return cls(
            choices=preferences.of_users(user_ids),
            previous={pk: when for pk, when in previous.items() if when is not None},
            mutes=mute_rules.of_users(user_ids) if briefings else {},
            stories=personal.followed_by(user_ids) if briefings else {},
            today=site.current(refresh=True) if briefings else None,
        )


def briefing_content(user_id: int, now: datetime, batch: Batch | None = None) -> dict | None:
    """Today's site briefing as this reader sees it and what is new on their stories
    since they last looked or since the previous briefing email was made."""
    batch = batch or Batch.read([user_id], briefings=True)
    mutes = batch.mutes[user_id]
    today = batch.today or site.current(refresh=True)
    stories = site.for_reader(today.stories, mutes)
    news = personal.whats_new(
        user_id, not_before=batch.previous.get(user_id), mutes=mutes, stories=batch.stories[user_id]
    )
    if not stories and not news:
        return None
    return {"day": today.day.isoformat(), "site": stories, "personal": news}


def alerts_content(user_id: int) -> dict | None:
    """What is new under each followed thing since it was read and since the last
    alert email, muted articles left out."""
    found = [f for f in notifications.gather(user_id, for_mail=True) if f.unread]
    if not found:
        return None
    items = []
    for item in notifications.describe(found[:ALERT_ITEMS]):
        latest = item["latest"]
        items.append(
            {
                "id": item["id"],
                "what": item["what"],
                "label": item["label"],
                "url": item["url"],
                "new": item["count"],
                "more": item["more"],
                "latest": None
                if latest is None
                else {"title": latest["title"], "url": latest["url"], "source": latest["source"]},
            }
        )
    return {"items": items, "more": max(0, len(found) - len(items))}


def _content(delivery: Delivery, now: datetime, batch: Batch) -> dict | None:
    """What the email says, or None when there is nothing to say."""
    user = delivery.user
    choice = batch.choices.get(user.pk) or preferences.of_user(user.pk)
    wanted = choice.briefing_email if delivery.kind == Delivery.Kind.BRIEFING else choice.alerts_interval != "off"
    if not (wanted and user.email and user.is_active):
        return None
    if delivery.kind == Delivery.Kind.BRIEFING:
        return briefing_content(user.pk, now, batch if user.pk in batch.stories else None)
    return alerts_content(user.pk)


def _take_contents(deliveries: list[Delivery], now: datetime, batch: Batch) -> list[Delivery]:
    """Fix what each email says, once, in one transaction for all of them; those with
    something to say (the others end SKIPPED)."""
    made = {d.pk: _content(d, now, batch) for d in deliveries if d.content is None}
    host = urlsplit(settings.NEWSDESK_SITE_URL).hostname or "localhost"
    ready = []
    with transaction.atomic():
        for delivery in deliveries:
            if delivery.content is not None:
                ready.append(delivery)
                continue
            content = made[delivery.pk]
            if content is None:
                Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
                    state=Delivery.State.SKIPPED
                )
                if delivery.kind == Delivery.Kind.ALERTS:
                    # All its news was muted: nothing to plan for again until something else arrives.
                    ids = Interest.objects.filter(
                        user_id=delivery.user_id, muted=False, kind__in=notifications.KINDS
                    ).values_list("pk", flat=True)
                    notifications.mark_mailed(delivery.user_id, list(ids), now)
                continue
            user = delivery.user
            message_id = f"<{delivery.kind}.{delivery.period}.{user.pk}.{delivery.pk}@{host}>"
            taken = Delivery.objects.filter(pk=delivery.pk, content__isnull=True).update(
                content=content, made_at=now, message_id=message_id, to=user.email
            )
            if taken:
                delivery.content, delivery.made_at, delivery.message_id, delivery.to = (
                    content,
                    now,
                    message_id,
                    user.email,
                )
            else:  # another sender took it first: send what it took
                delivery.refresh_from_db()
            ready.append(delivery)
    return ready


# --- the message ---------------------------------------------------------------------------


def _cite(line: dict) -> dict:
    return {**line, "url": absolute(reverse("article", args=[line["article"]]))}


@functools.lru_cache(maxsize=16)
def _top_stories(site: str, site_url: str) -> tuple[str, str]:
    """The top stories of a briefing email, as text and HTML, from the stored content's
    "site" part (JSON). It is the same for every reader who muted none of it, so it is
    rendered once per version of the day's briefing in each worker, not once per email:
    it was a fifth of an email's CPU time. `site_url` is part of the key because the
    links are absolute."""
    stories = [
        {
            **story,
            "url": absolute(reverse("story", args=[story["story"]])),
            "sentences": [_cite(s) for s in story["sentences"]],
        }
        for story in json.loads(site)
    ]
    values = {"stories": stories}
    return (
        render_to_string("briefings/email/_top_stories.txt", values),
        render_to_string("briefings/email/_top_stories.html", values),
    )


def context(delivery: Delivery) -> dict:
    content = delivery.content or {}
    unsubscribe = absolute(
        reverse("briefings:unsubscribe", args=[tokens.unsubscribe_token(delivery.user_id, delivery.kind)])
    )
    found = {
        "user": delivery.user,
        "site_url": settings.NEWSDESK_SITE_URL,
        "unsubscribe_url": unsubscribe,
        "settings_url": absolute(reverse("briefings:settings")),
        "kind": delivery.kind,
    }
    if delivery.kind == Delivery.Kind.BRIEFING:
        day = datetime.fromisoformat(content["day"]).date() if content.get("day") else timezone.localdate()
        top_text, top_html = _top_stories(
            json.dumps(content.get("site", []), sort_keys=True), settings.NEWSDESK_SITE_URL
        )
        found.update(
            day=day,
            briefing_url=absolute(reverse("briefings:briefing")),
            top_stories_text=top_text,
            top_stories_html=mark_safe(top_html),  # rendered by Django's escaping template
            updates=[
                {
                    **update,
                    "url": absolute(reverse("story", args=[update["story"]])),
                    "sentences": [_cite(s) for s in update["sentences"]],
                    "headlines": [_cite(h) for h in update.get("headlines", [])],
                }
                for update in content.get("personal", [])
            ],
        )
    else:
        items = [
            {
                **item,
                "url": absolute(item["url"]),
                "latest": None
                if item["latest"] is None
                else {**item["latest"], "url": absolute(item["latest"]["url"])},
            }
            for item in content.get("items", [])
        ]
        found.update(
            items=items,
            more=content.get("more", 0),
            total_new=sum(item["new"] for item in items),
            notifications_url=absolute(reverse("briefings:notifications")),
        )
    return found


def subject(delivery: Delivery, values: dict) -> str:
    if delivery.kind == Delivery.Kind.BRIEFING:
        return f"Your briefing for {values['day']:%A %-d %B}"
    count = len(values["items"]) + values["more"]
    new = values["total_new"]
    return f"{new} new article{'s' if new != 1 else ''} on {count} thing{'s' if count != 1 else ''} you follow"


def message(delivery: Delivery) -> EmailMultiAlternatives:
    """The email: plain text and HTML from the stored content, absolute links, the
    one-click unsubscribe headers of RFC 8058 and the row's own Message-ID."""
    values = context(delivery)
    name = "briefing" if delivery.kind == Delivery.Kind.BRIEFING else "alerts"
    text = render_to_string(f"briefings/email/{name}.txt", values)
    html = render_to_string(f"briefings/email/{name}.html", values)
    host = urlsplit(settings.NEWSDESK_SITE_URL).hostname or "localhost"
    email = EmailMultiAlternatives(
        subject=subject(delivery, values),
        body=text,
        to=[delivery.to or delivery.user.email],
        headers={
            "Message-ID": delivery.message_id,
            "List-Unsubscribe": f"<{values['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"newsdesk {name} <{name}.{host}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(html, "text/html")
    return email


# --- sending -------------------------------------------------------------------------------


@dataclass
class Sent:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)


def _mark_sent(deliveries: list[Delivery], now: datetime) -> None:
    """One UPDATE for all of them (a statement per email was a tenth of the database's
    work per email); an alerts email also marks what it told of as mailed."""
    if not deliveries:
        return
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(state=Delivery.State.SENT, sent_at=now, error="")
    for delivery in deliveries:
        if delivery.kind == Delivery.Kind.ALERTS and delivery.made_at is not None:
            items = (delivery.content or {}).get("items", [])
            notifications.mark_mailed(delivery.user_id, [item["id"] for item in items], delivery.made_at)


def _defer(delivery: Delivery, error: BaseException, now: datetime, *, permanent: bool) -> None:
    attempts = delivery.attempts + 1
    state = Delivery.State.FAILED if permanent or attempts >= MAX_ATTEMPTS else Delivery.State.PENDING
    # A passing failure is tried again after the lease, longer each time.
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        state=state,
        error=f"{type(error).__name__}: {error}"[:2000],
        leased_until=now + lease() * attempts,
    )


def _record(answers: list[tuple[Delivery, BaseException | None]], outcome: Sent, now: datetime) -> None:
    """What the server said of these emails, in one transaction."""
    if not answers:
        return
    with transaction.atomic():
        sent = [delivery for delivery, error in answers if error is None]
        _mark_sent(sent, now)
        outcome.sent += [delivery.pk for delivery in sent]
        for delivery, error in answers:
            if error is None:
                continue
            if isinstance(error, outbox.REFUSALS):
                refused = outbox.code(error)
                _defer(delivery, error, now, permanent=refused >= 500)
                (outcome.failed if refused >= 500 else outcome.deferred).append(delivery.pk)
                log.warning("briefings: email %s refused: %s", delivery.pk, error)
            else:
                _defer(delivery, error, now, permanent=False)
                outcome.deferred.append(delivery.pk)
                log.warning("briefings: sending stopped at email %s: %s", delivery.pk, error)


def send(delivery_ids: Iterable[int], now: datetime | None = None) -> Sent:
    """Send these emails (the pending ones among them) over one SMTP connection.

    Contents are fixed, and answers recorded, CHUNK emails to a transaction; the
    server's conversation runs in the outbox's thread meanwhile. When the connection
    fails or the server closes it, the emails not yet sent stay pending for the retry.
    `now` (the clock by default) dates what is written: contents, sends, retries."""
    outcome = Sent()
    delivery_ids = list(delivery_ids)
    found = Delivery.objects.filter(pk__in=delivery_ids, state=Delivery.State.PENDING).select_related("user")
    rows = {delivery.pk: delivery for delivery in found}
    pending = [rows[pk] for pk in delivery_ids if pk in rows]
    batch = Batch.read(
        sorted({d.user_id for d in pending}), briefings=any(d.kind == Delivery.Kind.BRIEFING for d in pending)
    )
    sender = outbox.Outbox(get_connection(fail_silently=False))
    try:
        for start in range(0, len(pending), CHUNK):
            if sender.stopped.is_set():
                break
            chunk = pending[start : start + CHUNK]
            ready = _take_contents(chunk, now or timezone.now(), batch)
            taken = {d.pk for d in ready}
            outcome.skipped += [d.pk for d in chunk if d.pk not in taken]
            for delivery in ready:
                sender.put(delivery, message(delivery))
            _record(sender.answers(), outcome, now or timezone.now())
    finally:
        _record(sender.close(), outcome, now or timezone.now())
    return outcome


def unsubscribe(user_id: int, kind: str) -> bool:
    """Stop this kind of email for the reader; True when it was on."""
    row = preferences.of_user(user_id)
    if kind == "briefing":
        if not row.briefing_email:
            return False
        preferences.save(row, briefing_email=False)
    else:
        if row.alerts_interval == AlertInterval.OFF:
            return False
        preferences.save(row, alerts_interval=AlertInterval.OFF)
    return True
