"""Lead images: each article's picture, fetched by the workers and served by us.

The publisher's lead image (`Article.lead_image`, from og:image and the like) is fetched
through the same guarded fetcher as pages (`fetch.py`), decoded within a byte and pixel
budget and resized to a few WebP widths (`variants.py`, no Django), written through
Django's storage API (`store.py`) and recorded as an `ArticleImage`. The chain stage
(`stage.py`) runs after placement, so a slow or broken image never holds an article
back; a failure is recorded and the article simply has no picture. Readers' browsers
load the variants from us (`views.py`, year-long cache headers), never from publishers;
templates show them with `{% load images %}{% picture ... %}` (`templatetags/images.py`).
"""
