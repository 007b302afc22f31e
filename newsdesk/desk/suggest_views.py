"""A signed-in reader suggests a source and sees what became of their suggestions.

The form is a plain POST (CSRF, the reader's action limit, and the suggestions' own
limit in suggestions.py) that redirects back to the page; a refused or invalid one
comes back with the reason and what was typed (400, or 429 with Retry-After).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from newsdesk.desk import suggestions
from newsdesk.desk.access import reader_change, reader_page
from newsdesk.desk.forms import SuggestForm
from newsdesk.desk.models import Suggestion

SHOWN = 50  # the reader's latest suggestions on the page


def _page(request: HttpRequest, form: SuggestForm, *, status: int = 200, problem: str = "") -> HttpResponse:
    context = {
        "form": form,
        "problem": problem,
        "mine": Suggestion.objects.filter(user=request.user).select_related("source")[:SHOWN],
        "sent": request.GET.get("sent") == "1",
    }
    return render(request, "desk/suggest.html", context, status=status)


@require_safe
@reader_page
def suggest_page(request: HttpRequest) -> HttpResponse:
    return _page(request, SuggestForm())


@reader_change
def suggest(request: HttpRequest) -> HttpResponse:
    form = SuggestForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        suggestions.suggest(request.user, form.cleaned_data["url"], form.cleaned_data["note"])
    except suggestions.Refused as refused:
        response = _page(request, form, status=429 if refused.wait else 400, problem=str(refused))
        if refused.wait:
            response["Retry-After"] = str(refused.wait)
        return response
    return HttpResponseRedirect(reverse("desk:suggest") + "?sent=1")
