"""Source profiles: who a publisher is (country, language, kind of outlet, owner, parent
company, founding year), each fact with the link it comes from.

A profile starts from the open data file bundled with newsdesk (data/profiles.json, see
load.py) and is edited by staff in the admin. `loaded` remembers what the file last set,
field by field, so that loading the file again updates only the facts nobody has changed
since: a staff edit is never overwritten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from newsdesk.sources.models import Source


class OutletKind(models.TextChoices):
    """What kind of outlet a publisher is. Finer than `Source.Kind`: "independent" is
    its own kind here (a blog there)."""

    WIRE = "wire", "Wire service"
    PUBLIC = "public", "Public broadcaster"
    COMMERCIAL = "commercial", "Commercial"
    STATE = "state", "State-affiliated"
    INDEPENDENT = "independent", "Independent non-profit or reader-funded"
    BLOG = "blog", "Blog"


KIND_DEFINITIONS = {
    "wire": "a news agency selling its reports to other outlets",
    "public": "funded by the public, under rules that keep it apart from the government of the day",
    "commercial": "privately owned and run for profit",
    "state": "owned, funded or directed by a government",
    "independent": "run by a foundation, a trust, its staff or its readers",
    "blog": "one person's or a small group's own site",
}

# The facts of a profile, in the order pages show them, and the field holding each one's link.
FACTS = ("country", "language", "kind", "owner", "parent_company", "founded")
SOURCE_FIELD = {fact: f"{fact}_source" for fact in FACTS}


class SourceProfile(models.Model):
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="profile")
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, e.g. GB; blank: the publisher's own (Sources)"
    )
    country_source = models.URLField(max_length=500, blank=True, help_text="where the country comes from")
    language = models.CharField(
        max_length=8, blank=True, help_text="ISO 639-1, e.g. en; blank: the publisher's own (Sources)"
    )
    language_source = models.URLField(max_length=500, blank=True)
    kind = models.CharField(
        max_length=16, choices=OutletKind.choices, blank=True, help_text="blank: from the publisher's kind (Sources)"
    )
    kind_source = models.URLField(max_length=500, blank=True)
    owner = models.CharField(max_length=200, blank=True, help_text="who owns or runs the outlet")
    owner_source = models.URLField(max_length=500, blank=True)
    parent_company = models.CharField(max_length=200, blank=True, help_text="the owner's own owner, if any")
    parent_company_source = models.URLField(max_length=500, blank=True)
    founded = models.PositiveSmallIntegerField(null=True, blank=True, help_text="year")
    founded_source = models.URLField(max_length=500, blank=True)
    # What data/profiles.json last set, field by field ({"owner": "BBC", ...}).
    loaded = models.JSONField(default=dict, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="last changed by staff")
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        ordering = ["source__name"]

    def __str__(self) -> str:
        return f"Profile of {self.source}"


# --- Claims and their alignment per story (newsdesk/perspectives/alignment.py) ----------


class ArticleClaim(models.Model):
    """A claim of an article (newsdesk.ai.claims): a sentence with figures or a quotation,
    what was read from it, and the embedding of the sentence, for aligning stories."""

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="claims")
    sentence = models.IntegerField(help_text="index in the article's sentences; -1 for the headline")
    text = models.TextField()
    data = models.JSONField(default=dict, help_text="figures, quotation, entities (newsdesk.ai.claims.to_data)")
    vector = models.BinaryField(help_text="float16 embedding of the sentence")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "sentence"], name="claim_article_sentence")]

    def __str__(self) -> str:
        return self.text[:80]


class ClaimsExtracted(models.Model):
    """That an article's claims are stored, and by which method: an article with no
    claims has this row and no ArticleClaim."""

    article = models.OneToOneField(
        "articles.Article", on_delete=models.CASCADE, primary_key=True, related_name="claims_extracted"
    )
    version = models.CharField(max_length=100)


class ClaimAlignment(models.Model):
    """A story's claims grouped into clusters of the same thing, kept so that a new
    article's claims are compared with what is there instead of starting over."""

    story = models.OneToOneField("stories.Story", on_delete=models.CASCADE, primary_key=True, related_name="claims")
    version = models.CharField(max_length=100)
    placed = models.JSONField(default=list, help_text="[claim id, part, cluster] of every aligned fact")
    summary = models.JSONField(default=dict, help_text="agreements and conflicts, as pages and the API show them")
    # The summary's counts, so that a list of stories reads two numbers, not every summary.
    agreement_count = models.PositiveIntegerField(default=0)
    conflict_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)


class AlignedArticle(models.Model):
    """An article whose claims are in its story's alignment."""

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "article"], name="aligned_story_article")]
