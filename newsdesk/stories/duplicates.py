"""Near-duplicate text: syndicated wire copies and re-publications of one article.

MinHash signatures estimate the Jaccard similarity of two texts' 5-word shingles.
Locality-sensitive banding turns a signature into a few keys that a database index can
look up: two texts share a key with high probability when they are similar, so
candidates are found without comparing against every stored article.

The signature is datasketch's MinHash (its default scheme since 2.0, "affine32", seed 1),
computed here in a few lines of NumPy: importing datasketch loads scipy, 62 MB and a
second in every task worker (`newsdesk bench footprint`, issue 15). tests/test_duplicates.py
checks that the values equal datasketch's, so stored signatures stay comparable.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

PERMUTATIONS = 128
BANDS = 32  # 32 bands of 4 rows: texts with Jaccard >= 0.5 share a band with p > 0.87
ROWS = PERMUTATIONS // BANDS
SHINGLE = 5
THRESHOLD = 0.7  # estimated Jaccard at and above which two texts are one article
MIN_WORDS = 40  # shorter texts (headline-only entries, teasers) are never folded
_WORD = re.compile(r"\w+")


def shingles(text: str) -> list[bytes]:
    words = [w.lower() for w in _WORD.findall(text)]
    return [" ".join(words[i : i + SHINGLE]).encode() for i in range(max(0, len(words) - SHINGLE + 1))]


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of `text` (uint32 values), None when it is too short to judge."""
    if len(_WORD.findall(text)) < MIN_WORDS:
        return None
    digests = b"".join(hashlib.sha1(shingle).digest()[:4] for shingle in shingles(text))
    hashed = _mix(np.frombuffer(digests, dtype="<u4").astype(np.uint32))
    a, b = _permutations()
    return (hashed[:, None] * a + b).min(axis=0)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine maps h -> a*h + b (mod 2**32, a odd) of datasketch's generator, seed 1."""
    generator = np.random.RandomState(1)
    a = generator.randint(0, 1 << 31, PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, PERMUTATIONS, dtype=np.uint32)
    return a, b


def _mix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (wrapping multiplications), as datasketch applies it."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def band_keys(values: np.ndarray) -> list[int]:
    """One signed 63-bit key per band (fits a database BIGINT), band number mixed in."""
    keys = []
    for band in range(BANDS):
        chunk = values[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big") >> 1)
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.mean(a == b))


def to_blob(values: np.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4")
