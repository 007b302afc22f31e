"""Account pages: Django's auth views with newsdesk templates, plus sign-up and profile.

The URLs are namespaced ("accounts:"), so each Django view is told where its next step
lives instead of relying on the un-namespaced names it would reverse by default.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from newsdesk.accounts import ratelimit
from newsdesk.accounts.backends import BACKEND
from newsdesk.accounts.forms import RateLimitedAuthenticationForm, SignupForm, too_many
from newsdesk.accounts.models import is_blocked


def _safe_next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(default)


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(_safe_next(request))
    form = SignupForm(request.POST) if request.method == "POST" else SignupForm()
    if request.method == "POST" and form.is_valid():
        rule, ip = ratelimit.signup_ip_rule(), ratelimit.client_ip(request)
        if wait := ratelimit.retry_after(rule, ip):
            form.add_error(None, too_many(wait, "sign-ups from your network"))
        else:
            ratelimit.hit(rule, ip)
            user = form.save()
            login(request, user, backend=BACKEND)
            return HttpResponseRedirect(_safe_next(request))
    return render(request, "accounts/signup.html", {"form": form, "next": request.GET.get("next", "")})


class LoginView(auth_views.LoginView):
    """Django's login view; a client refused by the login limits gets the form with its
    message as 429 Too Many Requests, with Retry-After."""

    template_name = "accounts/login.html"
    form_class = RateLimitedAuthenticationForm
    redirect_authenticated_user = True
    next_page = "home"

    def form_invalid(self, form: RateLimitedAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    next_page = "home"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, limited per address and per e-mail so it cannot be used to
    flood someone's inbox. The answer is the same whether or not the address exists."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        rules = [
            (ratelimit.reset_ip_rule(), ratelimit.client_ip(self.request)),
            (ratelimit.reset_email_rule(), form.cleaned_data["email"].strip().lower()),
        ]
        if wait := max(ratelimit.retry_after(rule, ident) for rule, ident in rules):
            form.add_error(None, too_many(wait, "password reset requests"))
            return self.form_invalid(form)
        for rule, ident in rules:
            ratelimit.hit(rule, ident)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"blocked": is_blocked(request.user)})
