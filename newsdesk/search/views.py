"""The search page. It only reads: the index is kept current by the database itself."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from newsdesk.search.backends import search
from newsdesk.search.forms import SearchForm
from newsdesk.search.rows import result_rows
from newsdesk.search.types import MAX_OFFSET

PAGE_SIZE = 20


def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET if request.GET else None)
    context: dict = {"form": form, "searched": False}
    if form.is_bound:
        form.is_valid()  # cleaned_data keeps the fields that validated, errors show the rest
        query = form.cleaned_data.get("q", "")
        context.update(searched=bool(query), q=query)
        if query:
            context.update(_results(request, query, form))
    return render(request, "search/search.html", context)


def _results(request: HttpRequest, query: str, form: SearchForm) -> dict:
    filters = form.filters()
    wanted = request.GET.get("page")
    number = _page_number(wanted)
    results = search(query, filters, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    hits, total = results
    # The paginator only does the page arithmetic; a range stands in for the hits and
    # stops at the deepest page the backend will serve.
    page = Paginator(range(min(total, MAX_OFFSET + PAGE_SIZE)), PAGE_SIZE).get_page(number)
    if page.number != number and total:
        results = search(query, filters, offset=(page.number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        hits, total = results
    return {
        "hits": result_rows(hits),
        "total": total,
        "total_exact": results.exact,  # else counting stopped there: "1,100+ results"
        "page": page,
    }


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1
