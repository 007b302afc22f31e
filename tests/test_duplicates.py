"""Near-duplicate folding: wire copies fold onto the first article, different texts don't."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.sources.models import Source
from newsdesk.stories import duplicates
from newsdesk.stories.folding import fold_duplicate
from newsdesk.stories.models import NearDuplicate

pytestmark = pytest.mark.django_db

WIRE = (
    "Officials in the port city said on Tuesday that the new container terminal would open in the spring, "
    "two years later than planned, after a dispute over dredging permits delayed construction. The operator "
    "expects the terminal to handle a million containers a year once it reaches full capacity, roughly "
    "doubling the port's throughput. Local businesses have welcomed the project, although environmental "
    "groups say the dredging has damaged seagrass beds that shelter young fish. The regional government "
    "has promised to monitor the site and to fund a restoration programme for the affected areas."
)
OTHER = (
    "The national football team named three uncapped players in its squad for the autumn qualifiers, "
    "including a teenage goalkeeper who has only played a handful of league matches. The coach said the "
    "squad reflected form rather than reputation and that experienced players who missed out could still "
    "return before the tournament next summer. Supporters reacted with a mix of excitement and concern on "
    "social media, while former internationals questioned the decision to leave out the captain."
)


def article(source, n: int, text: str, minutes_ago: int) -> Article:
    return Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/{n}",
        title=f"Story {n}",
        body_text=text,
        content_hash=str(n),
        published_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def sources():
    return [
        Source.objects.create(name=name, slug=name, home_url=f"https://{name}.example/")
        for name in ("wire", "daily", "herald")
    ]


def test_copies_fold_onto_the_first_seen(sources):
    wire, daily, herald = sources
    original = article(wire, 1, WIRE, 60)
    edited = article(daily, 2, "By Staff Reporter. " + WIRE.replace("on Tuesday", "on Tuesday morning"), 30)
    again = article(herald, 3, WIRE + " Reporting by the wire service.", 10)
    unrelated = article(herald, 4, OTHER, 5)
    for a in (original, edited, again, unrelated):
        fold_duplicate(a)
    assert not NearDuplicate.objects.filter(article=original).exists()
    assert NearDuplicate.objects.get(article=edited).original == original
    assert NearDuplicate.objects.get(article=again).original == original
    assert not NearDuplicate.objects.filter(article=unrelated).exists()
    assert {c.article.source.slug for c in original.copies.all()} == {"daily", "herald"}


def test_an_earlier_copy_arriving_late_is_not_marked_as_the_copy(sources):
    wire, daily, _ = sources
    later = article(daily, 2, WIRE, 10)
    fold_duplicate(later)
    earlier = article(wire, 1, WIRE, 60)  # fetched late, published first
    fold_duplicate(earlier)
    assert not NearDuplicate.objects.filter(article=earlier).exists()
    fold_duplicate(later)  # idempotent, and would now find the earlier one
    assert NearDuplicate.objects.get(article=later).original == earlier


def test_short_texts_are_never_folded(sources):
    wire, daily, _ = sources
    assert duplicates.signature("Markets rise on hopes of a rate cut") is None
    a = article(wire, 1, "Markets rise on hopes of a rate cut", 20)
    b = article(daily, 2, "Markets rise on hopes of a rate cut", 10)
    assert fold_duplicate(a) is None and fold_duplicate(b) is None


def test_similarity_estimate_tracks_jaccard():
    a = duplicates.signature(WIRE)
    b = duplicates.signature(WIRE.replace("spring", "summer"))
    c = duplicates.signature(OTHER)
    assert duplicates.similarity(a, b) > 0.8
    assert duplicates.similarity(a, c) < 0.1
    assert len(set(duplicates.band_keys(a)) & set(duplicates.band_keys(b))) > 10
    assert all(0 <= key < 2**63 for key in duplicates.band_keys(a))


def test_signatures_equal_datasketchs_minhash():
    """The signature is datasketch's MinHash written out in NumPy (datasketch's import
    costs every worker 62 MB): same values, so signatures stored before stay comparable."""
    datasketch = pytest.importorskip("datasketch")
    texts = [WIRE, OTHER, WIRE.upper() + " " + OTHER, " ".join(f"word{i}" for i in range(500))]
    for text in texts:
        expected = datasketch.MinHash(num_perm=duplicates.PERMUTATIONS)
        expected.update_batch(duplicates.shingles(text))
        ours = duplicates.signature(text)
        assert ours is not None and ours.dtype == np.uint32
        assert np.array_equal(ours, expected.hashvalues.astype(np.uint32))
    assert duplicates.signature("too short to judge") is None
