"""Comment, edit and report forms. Every rule a reader can break is a form error: the
edit and report forms check theirs; a new comment's rules are the posting service's
(newsdesk.comments.posting, shared with the API), and the view puts its refusals on
CommentForm."""

from __future__ import annotations

from typing import Any

from django import forms

from newsdesk.comments.models import MAX_LENGTH, Report
from newsdesk.comments.text import clean_body


class BodyField(forms.CharField):
    """The comment text. With `rules=False` (CommentForm) it only reads what was typed:
    the posting service (newsdesk.comments.posting) applies the rules, after its own
    checks of who is posting, so an empty text is left to it too."""

    def __init__(self, *, rules: bool = True, **kwargs: Any) -> None:
        self.rules = rules
        kwargs.setdefault("label", "Your comment")
        kwargs.setdefault("help_text", f"Plain text, up to {MAX_LENGTH:,} characters. Links become clickable.")
        attrs = {"rows": 4, "maxlength": MAX_LENGTH}
        if not rules:
            attrs["required"] = True  # the browser still asks for a text
        # No max_length here: clean_body measures after normalising line ends and
        # gives a more useful message. The textarea's maxlength guides the browser.
        super().__init__(
            strip=False,
            required=rules,
            error_messages={"required": "Write something before posting."},
            widget=forms.Textarea(attrs=attrs),
            **kwargs,
        )

    def clean(self, value):
        value = super().clean(value)
        return clean_body(value) if self.rules else value


class CommentForm(forms.Form):
    """The web form for a new comment, or a reply when `parent` is set. It only reads
    the fields (a `parent` that is not a number is its one error); every rule about the
    text, the comment replied to, the reader and the limits is the posting service's
    (newsdesk.comments.posting.post_comment), which the API calls as well. The view
    shows the service's refusals on this form, so nothing typed is lost."""

    body = BodyField(rules=False)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class EditForm(forms.Form):
    body = BodyField(label="Edit your comment")


class ReportForm(forms.ModelForm):
    reason = forms.ChoiceField(
        label="What is wrong with this comment?",
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )

    class Meta:
        model = Report
        fields = ["reason", "details"]

    def clean_details(self) -> str:
        details = self.cleaned_data.get("details", "")
        return clean_body(details) if details.strip() else ""
