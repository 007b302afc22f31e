"""Account forms: Django's own, plus the e-mail address and the login rate limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from newsdesk.accounts import ratelimit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def too_many(seconds: int, what: str = "attempts") -> ValidationError:
    return ValidationError(f"Too many {what}. Please try again in {ratelimit.wait_text(seconds)}.", code="rate_limited")


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
            raise ValidationError("An account with this e-mail address already exists.", code="duplicate_email")
        return email


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Django's login form under the login limits of newsdesk/accounts/ratelimit.py.

    A client address over its limits is refused before any password is checked (so a
    correct guess among the refused ones gains nothing); an account many addresses fail
    on is only slowed down, so its owner can always log in. `retry_after` holds the
    seconds the client must wait when it was refused, for the view's 429."""

    retry_after = 0

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()[:150]
        ip = ratelimit.client_ip(self.request) if self.request else "unknown"
        refusing = [
            (ratelimit.login_client_user_rule(), ratelimit.client_user(ip, username)),
            (ratelimit.login_ip_rule(), ip),
        ]
        self._refuse_if_over(refusing)
        if delay := ratelimit.login_delay(username):
            ratelimit.pause(delay)
        try:
            return super().clean()
        except ValidationError:
            for rule, ident in [*refusing, (ratelimit.login_user_rule(), username)]:
                ratelimit.hit(rule, ident)
            self._refuse_if_over(refusing, chained=True)
            raise

    def _refuse_if_over(self, rules: list[tuple[ratelimit.Rule, str]], *, chained: bool = False) -> None:
        wait = max(ratelimit.retry_after(rule, ident) for rule, ident in rules)
        if wait:
            self.retry_after = wait
            if chained:
                raise too_many(wait, "failed login attempts") from None
            raise too_many(wait, "failed login attempts")

    def confirm_login_allowed(self, user: AbstractBaseUser) -> None:
        super().confirm_login_allowed(user)
        # A successful login ends this address's failure count for this username; the
        # address's own count stays, or one valid account could reset it between guesses,
        # and so does the account's, which only ever delays.
        username = (self.cleaned_data.get("username") or "").strip().lower()[:150]
        ip = ratelimit.client_ip(self.request) if self.request else "unknown"
        ratelimit.reset(ratelimit.login_client_user_rule(), ratelimit.client_user(ip, username))
