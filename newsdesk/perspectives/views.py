"""The blindspots page: stories one group of outlets covers mostly, or leaves out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from newsdesk.perspectives import blindspots
from newsdesk.perspectives.models import KIND_DEFINITIONS, OutletKind
from newsdesk.perspectives.regions import REGIONS

SHOWN_PER_RULE = 30


def blindspots_page(request: HttpRequest) -> HttpResponse:
    found = blindspots.find()
    groups = [
        {
            "rule": rule,
            "items": items[:SHOWN_PER_RULE],
            "more": max(0, len(items) - SHOWN_PER_RULE),
            "count": len(items),
        }
        for rule, items in found.by_rule()
    ]
    context = {
        "found": found,
        "groups": groups,
        "flagged": len(found.flagged),
        "kinds": [(label, KIND_DEFINITIONS[value]) for value, label in OutletKind.choices],
        "regions": REGIONS.values(),
    }
    return render(request, "perspectives/blindspots.html", context)
