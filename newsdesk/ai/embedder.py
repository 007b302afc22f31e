"""The shared embedding model: one process per machine that loads MiniLM and embeds for
every web and worker process, over a local unix socket.

Each process that loaded its own copy held torch, transformers and the model: 500-900 MB
apiece, 3.3 GB for the default `newsdesk up`. This process holds the one copy; the
others import neither torch nor sentence-transformers and send their texts here
(`embeddings.embed()` does, when NEWSDESK_EMBEDDER names the socket).

One model thread does the work, so requests from all processes are batched together
and torch's threads never compete with each other. It takes the waiting texts in
chunks of CHUNK texts, interactive requests (ask-the-article, from the web) before
background ones (enrichment, from the workers) and oldest first within each, so a
reader's question waits at most one chunk of an enrichment batch; its own short
sentences go INTERACTIVE_CHUNKS chunks at a time. Small chunks also bound the memory a
model call takes: a question's 60 sentences in one call made the process 130 MB larger
for a moment.

The wire format is a frame (4-byte big-endian length, then the payload) each way: the
request a JSON object {"texts": [...], "priority": 0|1}, the reply a JSON header
({"rows": n, "dims": d} or {"error": "..."}) followed by one frame of n*d float32s.

`newsdesk up` binds the socket itself and hands it to this process (`--fd`), as it does
the web's listening sockets: while a dead embedder is restarted, requests wait in the
socket's backlog instead of being refused. Run alone, it binds `--socket PATH`.

    python -m newsdesk.ai.embedder --socket PATH

It configures Django's settings (for the model's name and length) but not the apps, so
it carries no more than the model needs.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import logging
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from newsdesk.ai.embeddings import DIMENSIONS

log = logging.getLogger("newsdesk.embedder")

INTERACTIVE = 0  # a reader waits: ask-the-article
BACKGROUND = 1  # enrichment, placement, anything a worker does
# One model call at a time on all of torch's threads: two calls of one thread each were
# slower on 2 cores (questions' p50 1.9 s instead of 1.1 s beside two enriching workers).
MODEL_THREADS = 1
CHUNK = 8  # texts per model call: the longest an interactive request waits behind others
INTERACTIVE_CHUNKS = 4  # texts of a reader's request per model call, in chunks
MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct("!I")


class ProtocolError(Exception):
    """A frame that is not what the protocol says."""


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def recv_frame(sock: socket.socket) -> bytes | None:
    """The next frame's payload; None at a clean end of the stream before a frame."""
    head = _recv_exactly(sock, _HEADER.size, eof_ok=True)
    if head is None:
        return None
    (length,) = _HEADER.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes")
    return _recv_exactly(sock, length) or b""


def _recv_exactly(sock: socket.socket, size: int, *, eof_ok: bool = False) -> bytes | None:
    parts, left = [], size
    while left:
        part = sock.recv(min(left, 1 << 20))
        if not part:
            if eof_ok and left == size:
                return None
            raise ConnectionResetError("the other end closed the connection mid-frame")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


# --- The batcher: one model thread, requests from many connections ------------------------


@dataclass(order=True)
class _Request:
    priority: int
    seq: int
    texts: list[str] = field(compare=False)
    vectors: np.ndarray | None = field(default=None, compare=False)
    taken: int = field(default=0, compare=False)  # texts handed to the model so far
    filled: int = field(default=0, compare=False)  # rows written back
    error: str | None = field(default=None, compare=False)
    done: threading.Event = field(default_factory=threading.Event, compare=False)


class Batcher:
    """Runs `encode(texts) -> float32 rows` in one thread over the texts of all waiting
    requests, CHUNK at a time, most urgent first; `submit` blocks until its rows are in."""

    def __init__(
        self, encode: Callable[[list[str]], np.ndarray], dims: int, chunk: int = CHUNK, threads: int = 1
    ) -> None:
        self.encode, self.dims, self.chunk = encode, dims, chunk
        self._heap: list[_Request] = []
        self._seq = itertools.count()
        self._ready = threading.Condition()
        self.threads = [
            threading.Thread(target=self._run, name=f"model-{n}", daemon=True) for n in range(max(1, threads))
        ]

    def start(self) -> Batcher:
        for thread in self.threads:
            thread.start()
        return self

    def submit(
        self, texts: Sequence[str], priority: int = BACKGROUND, gone: Callable[[], bool] | None = None
    ) -> np.ndarray | None:
        """The texts' rows once embedded; None when `gone()` turned true first (the client
        hung up: its texts are dropped from the queue rather than embedded for nobody,
        which after a stall of the embedder would keep it busy with requests whose
        clients have long given up and sent them again)."""
        request = _Request(priority, next(self._seq), list(texts))
        request.vectors = np.zeros((len(request.texts), self.dims), dtype=np.float32)
        if not request.texts:
            return request.vectors
        with self._ready:
            heapq.heappush(self._heap, request)
            self._ready.notify()
        while not request.done.wait(0.2):
            if gone is not None and gone():
                with self._ready:
                    if request in self._heap:
                        self._heap.remove(request)
                        heapq.heapify(self._heap)
                return None
        if request.error is not None:
            raise RuntimeError(request.error)
        return request.vectors

    def _take(self) -> list[tuple[_Request, int, int]]:
        """(request, start, end) slices making the next chunk: texts of the most urgent
        priority waiting only (mixing a question's short sentences with articles would
        pad them all to the articles' length)."""
        with self._ready:
            while not self._heap:
                self._ready.wait()
            priority = self._heap[0].priority
            # A question's sentences are short: four chunks' worth of them cost a model
            # call what a chunk of articles (128 word pieces each) does.
            picked, room = [], self.chunk * (INTERACTIVE_CHUNKS if priority == INTERACTIVE else 1)
            for request in sorted(r for r in self._heap if r.priority == priority):
                if room == 0:
                    break
                start = request.taken
                end = min(len(request.texts), start + room)
                request.taken = end
                room -= end - start
                picked.append((request, start, end))
                if end == len(request.texts):
                    self._heap.remove(request)
            heapq.heapify(self._heap)
            return picked

    def _run(self) -> None:
        while True:
            picked = self._take()
            texts = [t for request, start, end in picked for t in request.texts[start:end]]
            try:
                rows = self.encode(texts)
            except Exception as error:  # one bad input fails its chunk, not the process
                log.exception("embedding %d texts failed", len(texts))
                for request, start, end in picked:
                    request.error = f"{type(error).__name__}: {error}"
                    self._finish(request, end - start)
                continue
            at = 0
            for request, start, end in picked:
                assert request.vectors is not None
                request.vectors[start:end] = rows[at : at + end - start]
                at += end - start
                self._finish(request, end - start)

    def _finish(self, request: _Request, rows: int) -> None:
        with self._ready:  # model threads may finish chunks of one request together
            request.filled += rows
            if request.error is not None and request in self._heap:
                self._heap.remove(request)  # what is left of a failed request is not worth running
                heapq.heapify(self._heap)
            finished = request.error is not None or request.filled >= len(request.texts)
        if finished:
            request.done.set()


# --- The server ----------------------------------------------------------------------------


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    batcher: Batcher


class _Handler(socketserver.BaseRequestHandler):
    """One client connection: requests one after another until it closes."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        batcher = self.server.batcher  # type: ignore[attr-defined]
        while True:
            try:
                payload = recv_frame(sock)
                if payload is None:
                    return
                request = json.loads(payload)
                texts = request["texts"]
                if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                    raise ProtocolError("texts must be a list of strings")
                priority = INTERACTIVE if request.get("priority") == INTERACTIVE else BACKGROUND
            except (OSError, ProtocolError, ValueError, KeyError, TypeError) as error:
                if not isinstance(error, OSError):
                    self._reply_error(sock, f"bad request: {error}")
                return
            try:
                vectors = batcher.submit(texts, priority, gone=lambda: _hung_up(sock))
            except RuntimeError as error:
                if not self._reply_error(sock, str(error)):
                    return
                continue
            if vectors is None:
                return
            try:
                send_frame(sock, json.dumps({"rows": len(vectors), "dims": vectors.shape[1]}).encode())
                send_frame(sock, np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
            except OSError:
                return

    @staticmethod
    def _reply_error(sock: socket.socket, message: str) -> bool:
        try:
            send_frame(sock, json.dumps({"error": message}).encode())
            return True
        except OSError:
            return False


def _hung_up(sock: socket.socket) -> bool:
    """Whether the client closed its end while waiting for its answer (it sends nothing
    more before reading one, so anything readable is the end of the stream)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def listening_socket(path: str, backlog: int = 256) -> socket.socket:
    """A unix socket listening on `path` (a stale file from a dead run is replaced),
    readable and writable by this user only."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    sock.listen(backlog)
    return sock


def load_encoder() -> Callable[[list[str]], np.ndarray]:
    """The configured model as a function of a chunk of texts: the default MiniLM on
    plain torch (newsdesk/ai/minilm.py: 200 MB less than through sentence-transformers,
    the same vectors), any other model through sentence-transformers."""
    from django.conf import settings

    from newsdesk.ai import embeddings, minilm

    lean = minilm.load(embeddings.model_path(embeddings.model_name()), embeddings.max_tokens())
    if lean is None:
        embeddings.get_model()
        return lambda texts: embeddings.encode_locally(texts, batch_size=len(texts))
    if settings.NEWSDESK_TORCH_THREADS:
        lean.torch.set_num_threads(settings.NEWSDESK_TORCH_THREADS)
    lean.encode(["warm up"])  # torch sets up its kernels and threads at the first call
    return lean.encode


def serve(sock: socket.socket) -> None:
    """Load the model, then answer embed requests on the listening `sock` for ever."""
    began = time.monotonic()
    batcher = Batcher(load_encoder(), DIMENSIONS, threads=MODEL_THREADS)
    batcher.start()
    server = _Server(sock.getsockname(), _Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.batcher = batcher
    from newsdesk.ai.embeddings import model_name

    print(
        f"embedder: {model_name()} loaded in {time.monotonic() - began:.1f} s, "
        f"serving on {sock.getsockname() or 'an inherited socket'}",
        file=sys.stderr,
        flush=True,
    )
    server.serve_forever(poll_interval=0.5)


def return_memory_promptly() -> None:
    """glibc's malloc keeps freed memory for reuse: a chunk's activations (tens of MB,
    from many threads) stayed with the process after the chunk, 100 MB at peak over
    what the model needs. Blocks of 1 MB and more are mapped on their own and
    unmapped when freed, free memory is trimmed above 1 MB, and two arenas serve all
    threads (measured with 2 workers and a reader: peak 434 -> 342 MB, with CHUNK 8)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: its defaults stay
        return
    for option, value in ((-8, 2), (-1, 1 << 20), (-3, 1 << 20)):  # M_ARENA_MAX, M_TRIM_, M_MMAP_THRESHOLD
        libc.mallopt(option, value)


def command(fd: int, nice: int) -> list[str]:
    """The embedder as `newsdesk up` runs it, serving the listening socket it inherits as
    `fd`, `nice` below the caller's priority (the benchmarks start it the same way)."""
    return [sys.executable, "-m", "newsdesk.ai.embedder", "--fd", str(fd), "--nice", str(nice)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newsdesk.ai.embedder", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="unix socket path to bind")
    where.add_argument("--fd", type=int, help="an inherited listening unix socket (from `newsdesk up`)")
    parser.add_argument("--nice", type=int, default=0, help="lower the CPU priority by this much")
    args = parser.parse_args(argv)
    return_memory_promptly()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.nice:
        os.nice(args.nice)
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        sock = listening_socket(args.socket)
    serve(sock)


if __name__ == "__main__":
    main()
