"""A real HTTP server on 127.0.0.1 for tests: fixture files plus programmable routes.

Tests register what a path answers (status, headers, body, a delay, a body that never
ends) and the code under test talks to it over real sockets, the same way it talks to
publishers. Each Request records when it arrived and when its answer was sent, so tests
can measure concurrency and spacing on the server side.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent
    chunk_delay: float = 0.0  # seconds between body chunks (a slow server)


Handler = Callable[["Request"], Reply]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    started: float = 0.0  # time.monotonic() when the request line was read
    finished: float | None = None  # time.monotonic() when the answer was sent (or abandoned)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-answer is what many tests do on purpose


class FixtureServer:
    """Serve routes registered by tests; unknown paths fall back to files in fixtures/."""

    def __init__(self, root: Path = FIXTURES) -> None:
        self.root = root
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._serve(self)

            def do_HEAD(self) -> None:
                server._serve(self)

        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, path: str, handler: Handler | Reply) -> None:
        """Answer `path` with a fixed Reply or with a function of the request."""
        self.routes[path] = handler if callable(handler) else (lambda _req, r=handler: r)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        headers = {k.lower(): v for k, v in h.headers.items()}
        request = Request(h.command, h.path, headers, started=time.monotonic())
        with self._lock:
            self.requests.append(request)
        try:
            self._answer(h, request)
        finally:
            request.finished = time.monotonic()

    def _answer(self, h: BaseHTTPRequestHandler, request: Request) -> None:
        handler = self.routes.get(h.path) or self.routes.get(h.path.split("?")[0])
        reply = handler(request) if handler else self._file(h.path.split("?")[0])
        if reply.delay:
            time.sleep(reply.delay)
        try:
            h.send_response(reply.status)
            body = reply.body
            headers = dict(reply.headers)
            if isinstance(body, bytes):
                headers.setdefault("Content-Length", str(len(body)))
            else:
                headers["Connection"] = "close"
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            if h.command == "HEAD":
                return
            chunks = [body] if isinstance(body, bytes) else body
            for chunk in chunks:
                h.wfile.write(chunk)
                h.wfile.flush()
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
            if not isinstance(body, bytes):
                h.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _file(self, path: str) -> Reply:
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root.resolve()) or not target.is_file():
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        data = target.read_bytes()
        return Reply(200, data, {"Content-Type": content_type_for(target)})


def content_type_for(path: Path) -> str:
    return {
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".json": "application/feed+json",
        ".rdf": "application/rdf+xml",
        ".gz": "application/gzip",
        ".html": "text/html; charset=utf-8",
        ".opml": "text/x-opml",
        ".txt": "text/plain",
    }.get(path.suffix, "application/octet-stream")


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)
