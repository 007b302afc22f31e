"""`{% picture article "thumb" %}`: an article's stored lead image as a responsive <img>.

Every picture carries its width and height (the browser reserves the space before the
file arrives: nothing on the page jumps), a `srcset` of the stored widths with `sizes`
saying how wide the layout shows it (site.css), so a phone loads the 320 or 640 pixel
file and a desktop the one it needs. Pictures below the fold load lazily; the article's
and story's own picture is the largest thing on the page and loads at once
(`loading="lazy"` would delay the page's main paint).

Alt text: the large picture of an article or story gets the stored alt text. A
thumbnail beside its headline gets an empty alt: it shows what the headline already
says, and a screen reader would otherwise read every headline twice.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from newsdesk.images.models import shown_image

register = template.Library()

# How wide site.css shows each kind of picture (keep the two in step).
SIZES = {
    "thumb": "(min-width: 40rem) 9rem, 6rem",
    "card": "(min-width: 64rem) 26rem, (min-width: 40rem) 50vw, 100vw",
    "lead": "(min-width: 50rem) 46rem, 100vw",
}
EAGER = frozenset({"lead"})
DESCRIBED = frozenset({"lead"})


@register.filter
def has_picture(owner: Any) -> bool:
    return shown_image(owner) is not None


@register.simple_tag
def picture(owner: Any, kind: str = "thumb") -> SafeString | str:
    """The <img> of `owner` (an Article or an ArticleImage), or nothing."""
    image = shown_image(owner)
    if image is None:
        return ""
    eager = kind in EAGER
    return format_html(
        '<img class="pic pic-{}" src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" {}>',
        kind,
        image.url(640),
        image.srcset(),
        SIZES.get(kind, "100vw"),
        image.width,
        image.height,
        image.alt if kind in DESCRIBED else "",
        SafeString('fetchpriority="high" decoding="async"' if eager else 'loading="lazy" decoding="async"'),
    )
