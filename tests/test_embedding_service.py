"""The shared embedder (newsdesk/ai/embedder.py) and its client in embeddings.embed():
the same vectors as a model of one's own, requests of many threads batched, a reader's
question before enrichment, and a client that outlives the embedder's death."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from newsdesk.ai import embeddings
from newsdesk.ai.embedder import BACKGROUND, INTERACTIVE, Batcher, recv_frame, send_frame

ROOT = Path(__file__).parents[1]
TEXTS = [
    "Ferry services to the islands were restored on Monday after the storm.",
    "The central bank raised interest rates by a quarter of a point.",
    "A striker scored twice as the champions won the derby.",
    "Ministers met in Brussels to discuss the budget.",
    "buy",
    "purchase",
]


def start_embedder(path: Path) -> subprocess.Popen:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(path.parent), "NEWSDESK_LOG_LEVEL": "WARNING"}
    env.pop("NEWSDESK_EMBEDDER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "newsdesk.ai.embedder", "--socket", str(path)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_listening(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until the embedder has loaded its model and said so."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "serving on" in line:
            return
        assert proc.poll() is None, f"the embedder exited with {proc.returncode}: {line}"
    raise AssertionError("the embedder never said it was serving")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@pytest.fixture
def embedder(tmp_path):
    path = tmp_path / "embedder.sock"
    proc = start_embedder(path)
    try:
        wait_listening(path, proc)
        yield path, proc
    finally:
        stop(proc)


@pytest.fixture(autouse=True)
def _fresh_connection():
    embeddings._close_connection()
    yield
    embeddings._close_connection()


def test_shared_vectors_are_the_local_ones(embedder, settings):
    path, _ = embedder
    local = embeddings.encode_locally(TEXTS)
    settings.NEWSDESK_EMBEDDER = str(path)
    remote = embeddings.embed(TEXTS)
    assert remote.shape == (len(TEXTS), embeddings.DIMENSIONS) and remote.dtype == np.float32
    assert np.allclose(remote, local, atol=1e-5)
    assert np.allclose(np.linalg.norm(remote, axis=1), 1.0, atol=1e-5)
    assert embeddings.embed([]).shape == (0, embeddings.DIMENSIONS)


def test_requests_of_many_threads_each_get_their_own_rows(embedder, settings):
    """Threads' requests are batched together in the embedder (chunks mixing them) and
    each gets back its own texts' vectors, in its order."""
    path, _ = embedder
    local = embeddings.encode_locally(TEXTS)
    settings.NEWSDESK_EMBEDDER = str(path)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def ask(n: int) -> None:
        order = [(n + k) % len(TEXTS) for k in range(len(TEXTS))] * 5  # 30 texts, more than a chunk
        try:
            results[n] = embeddings.remote_embed(str(path), [TEXTS[i] for i in order])
            assert np.allclose(results[n], local[order], atol=1e-5)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)
        finally:
            embeddings._close_connection()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[0]
    assert len(results) == 8


def test_a_readers_question_goes_before_queued_enrichment():
    """With enrichment batches waiting, an interactive request is embedded in the next
    chunk, not after them."""
    chunks: list[list[str]] = []
    gate = threading.Event()

    def encode(texts: list[str]) -> np.ndarray:
        gate.wait(30)
        chunks.append(list(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    batcher = Batcher(encode, dims=4, chunk=4).start()
    done: list[str] = []

    def submit(name: str, texts: list[str], priority: int) -> None:
        batcher.submit(texts, priority)
        done.append(name)

    background = [
        threading.Thread(target=submit, args=(f"batch{n}", [f"article {n}.{k}" for k in range(8)], BACKGROUND))
        for n in range(2)
    ]
    for thread in background:
        thread.start()
        time.sleep(0.1)
    question = threading.Thread(target=submit, args=("question", ["q1", "q2"], INTERACTIVE))
    question.start()
    time.sleep(0.2)
    gate.set()
    for thread in [*background, question]:
        thread.join(30)
    # The first chunk was taken before the question came; the question is the next one.
    assert chunks[1] == ["q1", "q2"], chunks
    first_of_batch1 = next(n for n, chunk in enumerate(chunks) if any(t.startswith("article 1.") for t in chunk))
    assert first_of_batch1 > 1  # queued before the question, embedded after it
    assert sorted(done) == ["batch0", "batch1", "question"]
    assert sorted(t for chunk in chunks for t in chunk) == sorted(
        ["q1", "q2", *(f"article {n}.{k}" for n in range(2) for k in range(8))]
    )


def test_no_embedder_is_a_clear_error_after_the_wait(tmp_path, settings):
    settings.NEWSDESK_EMBEDDER = str(tmp_path / "nobody.sock")
    settings.NEWSDESK_EMBEDDER_WAIT = 1.0
    began = time.monotonic()
    with pytest.raises(embeddings.EmbedderUnavailable, match="nobody.sock within 1 s"):
        embeddings.embed(["anything"])
    assert 0.9 < time.monotonic() - began < 5


def test_a_bad_request_is_answered_with_an_error_not_a_dead_embedder(embedder):
    path, proc = embedder
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        send_frame(sock, b'{"texts": [1, 2]}')
        assert b"bad request" in (recv_frame(sock) or b"")
    assert proc.poll() is None
    assert embeddings.remote_embed(str(path), ["still here"]).shape == (1, embeddings.DIMENSIONS)


def test_the_client_waits_out_a_killed_embedder(tmp_path, settings):
    """A request sent while the embedder is dead (SIGKILL, socket file left behind) is
    answered once a new one listens: the client reconnects and sends it again."""
    path = tmp_path / "embedder.sock"
    first = start_embedder(path)
    second = None
    try:
        wait_listening(path, first)
        settings.NEWSDESK_EMBEDDER = str(path)
        settings.NEWSDESK_EMBEDDER_WAIT = 120.0
        before = embeddings.embed(TEXTS)  # a connection is open now
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert path.exists()  # a stale socket: connections are refused
        answer: dict[str, np.ndarray] = {}
        waiting = threading.Thread(
            target=lambda: answer.setdefault("vectors", embeddings.remote_embed(str(path), TEXTS, wait=120))
        )
        waiting.start()
        time.sleep(1.0)
        assert waiting.is_alive()  # still trying
        second = start_embedder(path)
        waiting.join(120)
        assert np.allclose(answer["vectors"], before, atol=1e-5)
    finally:
        stop(first)
        if second is not None:
            stop(second)


def test_the_embedder_runs_minilm_on_plain_torch_with_sentence_transformers_vectors(settings):
    """The embedding process skips sentence-transformers (200 MB of libraries) for the
    packaged model; its vectors must be the library's, long texts cut at the same place."""
    from newsdesk.ai import minilm

    lean = minilm.load(embeddings.model_path(embeddings.model_name()), embeddings.max_tokens())
    assert lean is not None
    long_text = " ".join(TEXTS[:4]) * 12  # far past 128 word pieces
    texts = [*TEXTS, long_text, "  padded with spaces  ", "x"]
    assert np.allclose(lean.encode(texts), embeddings.encode_locally(texts), atol=1e-5)
    assert minilm.load(str(ROOT), 128) is None  # not a model folder: sentence-transformers it is
