"""Bounded decompression of response bodies.

Bodies are decompressed here rather than by httpx, with every decoder bounded, because
httpx inflates a whole network chunk at once: 64 KB of brotli can become gigabytes before
a size check sees it. Each decoder yields at most CHUNK bytes at a time, so the fetcher's
size cap stops a decompression bomb after one chunk.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

try:  # brotli >= 1.2 can bound its output; older versions cannot, so br is not offered
    import brotli

    brotli.Decompressor().process(b"", output_buffer_limit=1)
except (ImportError, TypeError):  # pragma: no cover - depends on the environment
    brotli = None

try:
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None  # type: ignore[assignment]  # an optional module: None when not installed

ZSTD_MAX_WINDOW = 8 * 1024 * 1024  # RFC 8878: HTTP zstd decoders need no bigger window
CHUNK = 64 * 1024
ACCEPT_ENCODING = ", ".join(["gzip", "deflate"] + (["br"] if brotli else []) + (["zstd"] if zstandard else []))


def _inflate(raw: Iterable[bytes], wbits: int | None) -> Iterator[bytes]:
    """gzip (wbits 31) or deflate (None: zlib-wrapped or raw, told apart by the header)."""
    decompressor = None
    for data in raw:
        if decompressor is None:
            if not data:
                continue
            if wbits is None:
                zlib_header = len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
            decompressor = zlib.decompressobj(wbits)
        while data and not decompressor.eof:
            yield decompressor.decompress(data, CHUNK)
            data = decompressor.unconsumed_tail
        if decompressor.eof:  # whatever follows the compressed stream is not read
            break
    if decompressor is not None:
        yield decompressor.flush(CHUNK)


def _unbrotli(raw: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    for data in raw:
        yield decompressor.process(data, output_buffer_limit=CHUNK)
        while not decompressor.can_accept_more_data():
            yield decompressor.process(b"", output_buffer_limit=CHUNK)
        if decompressor.is_finished():
            break


class _IterReader:
    """A read(n) view of an iterator of byte chunks, for zstandard's stream reader."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = chunk
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _unzstd(raw: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    # zstandard reads from any object with read(n); its stubs ask for IO[bytes].
    reader = decompressor.stream_reader(_IterReader(raw), read_across_frames=True)  # type: ignore[arg-type]
    while chunk := reader.read(CHUNK):
        yield chunk


_DECODERS: dict[str, Callable[[Iterable[bytes]], Iterator[bytes]]] = {
    "gzip": lambda raw: _inflate(raw, 16 + zlib.MAX_WBITS),
    "x-gzip": lambda raw: _inflate(raw, 16 + zlib.MAX_WBITS),
    "deflate": lambda raw: _inflate(raw, None),
}
if brotli:
    _DECODERS["br"] = _unbrotli
if zstandard:
    _DECODERS["zstd"] = _unzstd
DECODE_ERRORS: tuple[type[Exception], ...] = (
    (zlib.error,) + ((brotli.error,) if brotli else ()) + ((zstandard.ZstdError,) if zstandard else ())
)


def decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """Undo Content-Encoding (codings applied in order, so undone in reverse)."""
    stream: Iterable[bytes] = raw
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in _DECODERS:
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
        stream = _DECODERS[coding](stream)
    return iter(stream)
