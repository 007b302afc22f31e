"""/api/: ninja's operations, the schema (openapi.json) and docs, JSON for everything else."""

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path, reverse
from django.utils.cache import patch_vary_headers

from newsdesk.api import docs
from newsdesk.api.api import api, json_error

app_name = "api"


def _finish(view):
    """ninja answers a wrong method with a plain-text 405: make it JSON. Answers depend
    on the token (your own held comments, 401s), so shared caches must key on it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = json_error(405, f"{request.method} is not allowed here; use {allowed}.", Allow=allowed)
        patch_vary_headers(response, ["Authorization"])
        return response

    return wrapper


def index(request: HttpRequest) -> HttpResponse:
    return api.create_response(
        request,
        {
            "title": api.title,
            "version": api.version,
            "openapi": request.build_absolute_uri(reverse("api:openapi-json")),
            "docs": request.build_absolute_uri(reverse("api:openapi-view")),
        },
        status=200,
    )


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return json_error(404, f"There is no API endpoint {request.path}; see {reverse('api:openapi-json')}.")


_patterns, _, _ = api.urls
for _pattern in _patterns:
    _pattern.callback = _finish(_pattern.callback)

urlpatterns = [
    path("", index, name="api-root"),
    path("docs/assets/<str:name>", docs.asset, name="docs-asset"),
    *[p for p in _patterns if p.name != "api-root"],
    re_path(r"^(?P<rest>.*)$", unknown),
]
