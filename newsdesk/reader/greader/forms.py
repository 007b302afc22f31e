"""The form fields of a Google Reader API POST, read without Django's 1,000-field cap.

Apps mark items in batches (`i=` once per item, plus `T`, `a`, `r`): a batch of 1,000
is 1,003 fields, which DATA_UPLOAD_MAX_NUMBER_FIELDS would refuse as suspicious. Here
the url-encoded body (already bounded by DATA_UPLOAD_MAX_MEMORY_SIZE when read) is
parsed with a cap of its own; other content types go through Django as usual.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict

MAX_FIELDS = 10_000


class TooManyFields(Exception):
    pass


def form(request: HttpRequest) -> MultiValueDict:
    """The POST's fields (empty for other methods), parsed once per request."""
    cached = getattr(request, "_greader_form", None)
    if cached is not None:
        return cached
    fields: MultiValueDict = MultiValueDict()
    if request.method == "POST":
        if request.content_type == "application/x-www-form-urlencoded":
            body = request.body.decode(request.encoding or "utf-8", errors="replace")
            try:
                pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
            except ValueError as error:
                raise TooManyFields(str(error)) from error
            for key, value in pairs:
                fields.appendlist(key, value)
        else:
            fields = MultiValueDict(request.POST.lists())
    request._greader_form = fields
    return fields
