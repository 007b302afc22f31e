"""Serving the stored variants from the default storage, so readers' browsers never
call publishers.

A variant's name holds the digest of the fetched bytes and never changes what it names,
so a response may be kept by browsers and shared caches for a year (`immutable`: not even
revalidated on reload); the nginx microcache of `newsdesk up` keeps it too. With a storage
backend that serves its own URLs (S3 and the like) this view is not used.
"""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import quote_etag
from django.views.decorators.http import require_safe

from newsdesk.images.models import PREFIX

# images/ab/<sha256>-<width>.webp (store.variant_name).
NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}-\d{1,5}\.webp")
CACHE_CONTROL = "public, max-age=31536000, immutable"


@require_safe
def serve(request: HttpRequest, name: str) -> HttpResponse:
    if not NAME.fullmatch(name):
        raise Http404("no such image")
    path = f"{PREFIX}/{name}"
    etag = quote_etag(name.rsplit("/", 1)[-1].removesuffix(".webp"))
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        try:
            handle = default_storage.open(path, "rb")
        except FileNotFoundError:
            raise Http404("no such image") from None
        response = FileResponse(handle, content_type="image/webp")
    response["Cache-Control"] = CACHE_CONTROL
    response["ETag"] = etag
    return response
