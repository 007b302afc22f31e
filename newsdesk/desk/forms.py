"""The desk's forms: what a URL, a source and a feed must be, with the staff API's rules
(newsdesk/api/schemas.py): http(s) URLs in their canonical form, a two-letter country in
capitals, a language tag in lower case, a slug of letters, digits and dashes."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from newsdesk.desk.models import MAX_NOTE, MAX_REASON
from newsdesk.desk.suggestions import MAX_URL, clean_url
from newsdesk.sources.models import Feed, Source

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def _url(value: str, limit: int) -> str:
    try:
        url = clean_url(value)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from None
    if len(url) > limit:
        raise forms.ValidationError(f"That address is longer than {limit} characters once normalised.")
    return url


def _country(value: str) -> str:
    value = (value or "").strip()
    if value and not COUNTRY.match(value):
        raise forms.ValidationError("Two letters (ISO 3166-1), such as GB or DE; or leave it empty.")
    return value.upper()


def _language(value: str) -> str:
    value = (value or "").strip()
    if value and not LANGUAGE.match(value):
        raise forms.ValidationError("A language tag such as en, de or pt-BR; or leave it empty.")
    return value.lower()


class UrlForm(forms.Form):
    url = forms.CharField(
        label="Address of a site, a feed or a news sitemap",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://news.example/", "autocomplete": "url"}),
    )

    def clean_url(self) -> str:
        return _url(self.cleaned_data["url"], MAX_URL)


class NewSourceForm(forms.Form):
    """The source a preview's feeds go to, when the site is not a source yet."""

    name = forms.CharField(max_length=200)
    country = forms.CharField(max_length=20, required=False, help_text="two letters, such as GB")
    language = forms.CharField(max_length=20, required=False, help_text="such as en or pt-br")
    kind = forms.ChoiceField(choices=Source.Kind.choices, initial=Source.Kind.COMMERCIAL, required=False)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the source a name.")
        return name

    def clean_country(self) -> str:
        return _country(self.cleaned_data["country"])

    def clean_language(self) -> str:
        return _language(self.cleaned_data["language"])


class SourceForm(forms.ModelForm):
    home_url = forms.CharField(label="Home page", max_length=500, widget=forms.URLInput)
    # Longer than the columns: the clean_ methods say what a value must look like.
    country = forms.CharField(max_length=20, required=False, help_text="two letters, such as GB")
    language = forms.CharField(max_length=20, required=False, help_text="such as en or pt-br")

    class Meta:
        model = Source
        fields = ["name", "slug", "home_url", "country", "language", "kind"]
        help_texts = {"slug": "letters, digits and dashes: its page is /sources/SLUG/"}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the source a name.")
        return name

    def clean_home_url(self) -> str:
        return _url(self.cleaned_data["home_url"], 500)

    def clean_country(self) -> str:
        return _country(self.cleaned_data["country"])

    def clean_language(self) -> str:
        return _language(self.cleaned_data["language"])


class FeedForm(forms.Form):
    url = forms.CharField(label="Address", max_length=2000, widget=forms.URLInput)
    title = forms.CharField(max_length=300, required=False)
    enabled = forms.BooleanField(required=False, label="Polled")

    def __init__(self, *args: Any, feed: Feed, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"feed-{feed.pk}")
        kwargs.setdefault("initial", {"url": feed.url, "title": feed.title, "enabled": feed.enabled})
        super().__init__(*args, **kwargs)
        self.feed = feed

    def clean_url(self) -> str:
        url = _url(self.cleaned_data["url"], 1000)
        other = Feed.objects.filter(url=url).exclude(pk=self.feed.pk).select_related("source").first()
        if other is not None:
            raise forms.ValidationError(f"{url} is already a feed of {other.source.name}.")
        return url


class SuggestForm(forms.Form):
    url = forms.CharField(
        label="Address of the site or its feed",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://news.example/", "autocomplete": "url"}),
    )
    note = forms.CharField(
        label="Why (optional)",
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What it covers, or anything staff should know.",
    )

    def clean_url(self) -> str:
        return _url(self.cleaned_data["url"], MAX_URL)


class DeclineForm(forms.Form):
    reason = forms.CharField(max_length=MAX_REASON, required=False)
