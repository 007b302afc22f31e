"""Comment, edit and report forms. Every rule a reader can break is a form error."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from newsdesk.articles.models import Article
from newsdesk.comments.models import MAX_LENGTH, Comment, Report
from newsdesk.comments.text import clean_body


class BodyField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", "Your comment")
        kwargs.setdefault(
            "help_text", f"Plain text, up to {MAX_LENGTH:,} characters. Links become clickable."
        )
        # No max_length here: clean_body measures after normalising line ends and
        # gives a more useful message. The textarea's maxlength guides the browser.
        super().__init__(
            strip=False,
            error_messages={"required": "Write something before posting."},
            widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_LENGTH}),
            **kwargs,
        )

    def clean(self, value):
        return clean_body(super().clean(value))


class CommentForm(forms.Form):
    """A new comment, or a reply when `parent` names a published top-level comment
    of the same article. A reply to a reply joins the thread of its top-level comment."""

    body = BodyField()
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, article: Article, **kwargs) -> None:
        self.article = article
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        # Checked here rather than in clean_parent so the error shows as a message
        # about the reply, not as one about a hidden field.
        cleaned = super().clean()
        pk = cleaned.get("parent")
        if pk is None:
            return cleaned
        parent = Comment.objects.filter(pk=pk).select_related("parent").first()
        if parent is None:
            raise ValidationError(
                "The comment you are replying to does not exist.", code="no_parent"
            )
        if parent.article_id != self.article.pk:
            raise ValidationError(
                "The comment you are replying to belongs to another article.", code="other_article"
            )
        if parent.parent_id is not None:
            parent = parent.parent
        if parent.status != Comment.Status.PUBLISHED:
            raise ValidationError(
                "The comment you are replying to is no longer open for replies.", code="closed"
            )
        cleaned["parent"] = parent
        return cleaned


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
