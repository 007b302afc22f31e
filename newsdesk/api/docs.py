"""The interactive docs (Swagger UI) under the site's Content-Security-Policy.

ninja's own page either needs `ninja` in INSTALLED_APPS (for its templates and static
files) or loads Swagger UI from a CDN, which the policy forbids. This page is ninja's
CSP-friendly layout -- settings in a JSON data block, no inline script -- with the
Swagger UI files that ship inside the ninja package served from our own origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

ASSET_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}


class CSPSwagger(DocsBase):
    settings: ClassVar[dict] = {
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,  # the default sends the schema to swagger.io
        "persistAuthorization": False,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, "api/docs.html", {"api": api, "swagger_settings": settings})


def asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS or not (ASSET_DIR / name).is_file():
        raise Http404("no such file")
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
