"""Near-duplicate text: syndicated wire copies and re-publications of one article.

MinHash signatures (datasketch) estimate the Jaccard similarity of two texts' 5-word
shingles. Locality-sensitive banding turns a signature into a few keys that a database
index can look up: two texts share a key with high probability when they are similar,
so candidates are found without comparing against every stored article.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from datasketch import LeanMinHash, MinHash

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
    minhash = MinHash(num_perm=PERMUTATIONS)
    minhash.update_batch(shingles(text))
    return LeanMinHash(minhash).hashvalues.astype(np.uint32)


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
