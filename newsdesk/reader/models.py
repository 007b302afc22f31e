"""Per-reader rows: follows, read marks, saved items, history, settings, app passwords.

Read state is two things, so that following a publisher with ten thousand archived
articles costs one row, not ten thousand: each follow has a watermark (`read_before`,
every article of that source published up to it counts as read), and ReadMark rows
record single articles marked read or kept unread against the watermark. "Mark all as
read" moves the watermark and drops the marks it makes redundant.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.sources.models import Source


class Follow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_follows")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="followers")
    category = models.CharField(max_length=100, blank=True, help_text="the reader's folder (a label in reader apps)")
    read_before = models.DateTimeField(help_text="articles published up to this time count as read")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "source"], name="reader_follow_once")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.source}"


class Interest(models.Model):
    """A hashtag, section, story or saved search the reader follows, or a source, hashtag,
    section or word they muted: one row per thing, so muting a followed hashtag replaces
    the follow. Following a source stays a Follow (a reader app's subscription, with its
    read watermark); muting one is an Interest of kind "source".

    `key` is what the thing is found by: a source, hashtag or section slug, a story's id
    in decimal, a saved search's query string as the search page
    takes it (`q` and its filters, keys sorted, empty ones left out), or a lower-cased word. `seen_at` is when the reader last
    opened its listing: "new since your last visit" and unread counts start there.
    """

    class Kind(models.TextChoices):
        SOURCE = "source", "source"  # muted only
        HASHTAG = "hashtag", "hashtag"
        SECTION = "section", "section"
        STORY = "story", "story"
        SEARCH = "search", "saved search"
        WORD = "word", "word"  # muted only

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_interests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=500)
    label = models.CharField(max_length=200, blank=True, help_text="what the reader sees: #Putin, the story's headline")
    muted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "key"], name="reader_interest_once")]
        # Fan-out of a new article: who follows this hashtag, story, section.
        indexes = [models.Index(fields=["kind", "key", "muted"], name="reader_interest_target")]

    def __str__(self) -> str:
        return f"{self.user} {'mutes' if self.muted else 'follows'} {self.kind} {self.key}"


class ReadMark(models.Model):
    """One article marked read (is_read) or kept unread (not is_read) by one reader."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_marks")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    is_read = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="reader_mark_once")]


class Saved(models.Model):
    """Saved for later ("starred" in reader apps), with the reader's own note."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_saved")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(blank=True, max_length=2000)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="reader_save_once")]
        indexes = [models.Index(fields=["user", "-saved_at"], name="reader_saved_latest")]


class HistoryEntry(models.Model):
    """An article page the reader opened, the latest opening only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_history")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="reader_history_once")]
        indexes = [models.Index(fields=["user", "-opened_at"], name="reader_history_latest")]


class ReaderSettings(models.Model):
    """A reader's choices; a reader without a row has the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_settings")
    keep_history = models.BooleanField(
        default=True, help_text="off: opening an article records nothing (no history, no read mark)"
    )


class AppPassword(models.Model):
    """A password for one reader app, so the account password never sits in an app.

    Only Django's hash of it is stored (the plain text is shown once, on creation), and
    a SHA-256 of the key the Fever API derives from it; deleting the row revokes it and
    every API token derived from it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_passwords")
    name = models.CharField(max_length=100)
    password = models.CharField(max_length=256)
    fever_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="SHA-256 of the Fever API key, md5('username:password') (app_passwords.py)",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class Visit(models.Model):
    """When the reader was last on the site's listings, for "new since your last visit".

    A visit is a run of page views with no gap longer than new_since.VISIT_GAP; `since` is
    where the previous visit ended (None on the first one): articles published after it
    are marked new for the whole of this visit, so a reload does not clear the markers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="reader_visit"
    )
    last_at = models.DateTimeField(default=timezone.now)
    since = models.DateTimeField(null=True, blank=True)


class Nudge(models.Model):
    """ "More like this" (more) or "less like this" (not more) on an article in For You:
    the article's neighbours in the vector index are raised or lowered (foryou.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_nudges")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    more = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="reader_nudge_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="reader_nudge_latest")]
