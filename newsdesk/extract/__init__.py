"""The extract stage: page (or feed) HTML in, clean article fields out.

Pure functions over text: no Django, no network. See extract/pipeline.py for the flow.
"""

from .pipeline import extract
from .render import html_to_text
from .result import Extracted, ExtractionError
from .sanitize import sanitize_html

__all__ = ["extract", "Extracted", "ExtractionError", "html_to_text", "sanitize_html"]
