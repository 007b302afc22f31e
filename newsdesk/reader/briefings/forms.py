"""The reader's email choices as a form: what is wrong is said next to the field, and
nothing is saved until all of it is right."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser

from newsdesk.reader.briefings import preferences
from newsdesk.reader.briefings.models import AlertInterval, BriefingSettings

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


class SettingsForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        required=False,
        max_length=254,
        help_text="Briefings and alerts go here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    briefing_email = forms.BooleanField(label="Email me the daily briefing", required=False)
    briefing_hour = forms.TypedChoiceField(
        label="At",
        choices=HOURS,
        coerce=int,
        help_text="The hour the briefing arrives, in your time zone; a daily alert email comes then too.",
    )
    time_zone = forms.ChoiceField(label="Your time zone")
    alerts_interval = forms.ChoiceField(
        label="Alert emails",
        choices=AlertInterval.choices,
        widget=forms.RadioSelect,
        help_text="New articles on the stories, hashtags and searches you follow; "
        "at most one email in each period, never anything you muted.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in preferences.time_zones()]

    @staticmethod
    def initial_for(user: AbstractBaseUser, choice: BriefingSettings) -> dict:
        return {
            "email": getattr(user, "email", ""),
            "briefing_email": choice.briefing_email,
            "briefing_hour": choice.briefing_hour,
            "time_zone": choice.time_zone or settings.TIME_ZONE,
            "alerts_interval": choice.alerts_interval,
        }

    def clean(self) -> dict:
        data = super().clean()
        wants_mail = data.get("briefing_email") or data.get("alerts_interval", AlertInterval.OFF) != AlertInterval.OFF
        if wants_mail and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Give an email address to get briefings or alerts by email.")
        return data

    def save(self, user: AbstractBaseUser, choice: BriefingSettings) -> BriefingSettings:
        data = self.cleaned_data
        if data["email"] != getattr(user, "email", ""):
            user.email = data["email"]
            user.save(update_fields=["email"])
        return preferences.save(
            choice,
            briefing_email=data["briefing_email"],
            briefing_hour=data["briefing_hour"],
            time_zone=data["time_zone"],
            alerts_interval=data["alerts_interval"],
        )
