"""The extract stage: page (or feed) HTML in, clean article fields out.

Pure functions over text: no Django, no network. See extract/pipeline.py for the flow.

`extract` and `html_to_text` load trafilatura (about 20 MB), so they are imported when
first used: web processes, which only sanitize, never load it (issue 15).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .result import Extracted, ExtractionError
from .sanitize import sanitize_html

if TYPE_CHECKING:
    from .pipeline import extract
    from .render import html_to_text

__all__ = ["extract", "Extracted", "ExtractionError", "html_to_text", "sanitize_html"]


def __getattr__(name: str) -> Any:
    if name == "extract":
        from .pipeline import extract

        return extract
    if name == "html_to_text":
        from .render import html_to_text

        return html_to_text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
