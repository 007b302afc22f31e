"""Account forms: Django's own, plus the e-mail address and the login rate limit."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from newsdesk.accounts import ratelimit


def too_many(seconds: int, what: str = "attempts") -> ValidationError:
    return ValidationError(
        f"Too many {what}. Please try again in {ratelimit.wait_text(seconds)}.", code="rate_limited"
    )


class SignupForm(UserCreationForm):
    """Username, e-mail and password, checked by Django's password validators."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="Used only to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        # One account per address keeps password reset unambiguous.
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(
                "An account with this e-mail address already exists.", code="duplicate_email"
            )
        return email


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Refuses to check a password once the username or the client address has failed
    too often; a correct password does not help while the lock lasts, so guessing
    gains nothing from it."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()[:150]
        ip = ratelimit.client_ip(self.request) if self.request else "unknown"
        rules = [(ratelimit.login_user_rule(), username), (ratelimit.login_ip_rule(), ip)]
        wait = max(ratelimit.retry_after(rule, ident) for rule, ident in rules)
        if wait:
            raise too_many(wait, "failed login attempts")
        try:
            return super().clean()
        except ValidationError:
            for rule, ident in rules:
                ratelimit.hit(rule, ident)
            wait = max(ratelimit.retry_after(rule, ident) for rule, ident in rules)
            if wait:
                raise too_many(wait, "failed login attempts") from None
            raise

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        # A successful login ends this username's failure count; the address count
        # stays, or one valid account could be used to reset it between guesses.
        username = (self.cleaned_data.get("username") or "").strip().lower()[:150]
        ratelimit.reset(ratelimit.login_user_rule(), username)
