"""The one way newsdesk talks to publishers: a guarded, polite, size- and time-capped GET.

Everything fetched is hostile: a feed URL typed by a user, a redirect, or a DNS answer can
all point at the machine itself or its private network (SSRF). The guard therefore sits
where the socket is opened, not where the URL is read: `_GuardedBackend` resolves the
name, refuses the connection when any answer is a non-public address, and connects to the
checked IP literal. A second resolution (DNS rebinding) never happens, redirects go
through the same path, and TLS still verifies the certificate against the host name.

Bodies are decompressed here rather than by httpx, with every decoder bounded, because
httpx inflates a whole network chunk at once: 64 KB of brotli can become gigabytes before
a size check sees it.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import ipaddress
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from types import TracebackType
from typing import Self
from urllib.parse import urljoin

import httpcore
import httpx

from newsdesk.extract.decode import decode_text
from newsdesk.links import host_of

from .politeness import HostLimiter, LocalHostLimiter
from .robots import RobotsCache

try:  # brotli >= 1.2 can bound its output; older versions cannot, so br is not offered
    import brotli

    brotli.Decompressor().process(b"", output_buffer_limit=1)
except (ImportError, TypeError):  # pragma: no cover - depends on the environment
    brotli = None

try:
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

__all__ = [
    "FetchError",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "blocked_reason",
]

ERROR_KINDS = frozenset(
    {
        "blocked-address",
        "bad-url",
        "robots",
        "too-large",
        "timeout",
        "too-many-redirects",
        "http-status",
        "network",
    }
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # what Google reads of a robots.txt; the rest is ignored
ZSTD_MAX_WINDOW = 8 * 1024 * 1024  # RFC 8878: HTTP zstd decoders need no bigger window
_CHUNK = 64 * 1024
ACCEPT_ENCODING = ", ".join(["gzip", "deflate"] + (["br"] if brotli else []) + (["zstd"] if zstandard else []))


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "newsdesk/0.1"
    timeout: float = 20.0  # total seconds for one get(), body included
    connect_timeout: float = 10.0
    max_bytes: int = 10 * 1024 * 1024  # cap on the decoded body
    max_redirects: int = 5
    allow_hosts: frozenset[str] = frozenset()  # host or host:port that may be non-public (allow_entry)
    obey_robots: bool = True
    host_concurrency: int = 2
    host_delay: float = 1.0
    max_concurrency: int = 16


class FetchError(Exception):
    """Why a fetch failed, in a form a task can act on (`kind`) and a human can read."""

    def __init__(
        self,
        kind: str,
        url: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        assert kind in ERROR_KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.url = url
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self):  # keep it picklable for task queues
        return (_rebuild_error, (self.kind, self.url, str(self), self.status, self.retry_after))


def _rebuild_error(kind, url, message, status, retry_after) -> FetchError:
    return FetchError(kind, url, message, status=status, retry_after=retry_after)


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    etag: str | None
    last_modified: str | None
    elapsed: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("content-type"))

    def text(self) -> str:
        """The body as text (newsdesk.extract.decode's policy), decoded once per result."""
        return self._text

    @cached_property
    def _text(self) -> str:
        return decode_text(self.content, self.headers.get("content-type"))


# --- the address guard ---------------------------------------------------------------

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a connection to `ip` must not be made, or None for a public unicast address."""
    if ip.version == 6:
        # An IPv4 address wrapped in IPv6 is judged as the IPv4 address it reaches.
        if ip.ipv4_mapped is not None:
            return blocked_reason(ip.ipv4_mapped)
        if ip in _NAT64:
            return blocked_reason(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and (reason := blocked_reason(embedded)):
            return reason
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:  # e.g. 100.64.0.0/10, shared by carrier-grade NAT
        return "non-public"
    return None


class BlockedAddress(Exception):
    """Raised inside the connection pool; deliberately not an OSError so nothing retries it."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        article = "an" if reason[0] in "aeiou" else "a"
        super().__init__(f"blocked: {address} is {article} {reason} address (host {host})")


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def allow_entry(entry: str) -> str:
    """One NEWSDESK_FETCH_ALLOW_HOSTS entry as the guard compares it.

    `host:port` (`[v6]:port` for IPv6) allows that one port of the host; a bare `host`
    allows all its ports, as entries always did. Prefer the port form: a bare loopback
    host opens every service on the machine to a feed URL or a redirect.
    """
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:  # a name, an IPv4 address or a bare IPv6 address: any port
        host, port = entry, ""
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"fetch allow-list entry {entry!r}: the port must be a number")
    return f"{_host_key(host)}#{int(port)}" if port else _host_key(host)


def _allowed(host: str, port: int, allow_hosts: frozenset[str]) -> bool:
    key = _host_key(host)
    return key in allow_hosts or f"{key}#{port}" in allow_hosts


def resolve_checked(host: str, port: int, allow_hosts: frozenset[str]) -> list[str]:
    """Resolve once and return addresses that are safe to connect to (all of them, or none).
    `allow_hosts` holds allow_entry() keys: hosts, or host and port, exempt from the check."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not _allowed(host, port, allow_hosts):
        for address in addresses:
            reason = blocked_reason(ipaddress.ip_address(address.split("%")[0]))
            if reason:
                raise BlockedAddress(host, address, reason)
    return addresses


# A get() sets its deadline here; every socket operation of that get() is clamped to it.
# httpx's own timeouts apply per read, so a server dripping one byte a second is never cut
# off by them alone.
_deadline: ContextVar[float | None] = ContextVar("newsdesk_fetch_deadline", default=None)


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("total time limit reached")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = _budget(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Open TCP connections only to checked addresses; the name is resolved exactly once."""

    def __init__(self, allow_hosts: frozenset[str]) -> None:
        self._allow_hosts = allow_hosts
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        error: Exception | None = None
        for address in resolve_checked(host, port, self._allow_hosts):
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    _budget(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
                return _DeadlineStream(stream)
            except httpcore.ConnectError as exc:  # try the next address of the host
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never used for fetching")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with a connection pool built on the guarded backend.

    HTTPTransport offers no way to pass a network backend, so its __init__ (which would
    build an unguarded pool) is replaced; everything else, including the mapping of
    httpcore errors to httpx errors, is inherited.
    """

    def __init__(self, policy: FetchPolicy, allow_hosts: frozenset[str]) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=policy.max_concurrency + 4,  # + robots.txt fetches
            max_keepalive_connections=policy.max_concurrency,
            keepalive_expiry=30.0,
            network_backend=_GuardedBackend(allow_hosts),
        )


# --- bounded content decoding --------------------------------------------------------


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
            yield decompressor.decompress(data, _CHUNK)
            data = decompressor.unconsumed_tail
        if decompressor.eof:  # whatever follows the compressed stream is not read
            break
    if decompressor is not None:
        yield decompressor.flush(_CHUNK)


def _unbrotli(raw: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    for data in raw:
        yield decompressor.process(data, output_buffer_limit=_CHUNK)
        while not decompressor.can_accept_more_data():
            yield decompressor.process(b"", output_buffer_limit=_CHUNK)
        if decompressor.is_finished():
            break


class _IterReader:
    """A read(n) view of an iterator of byte chunks, for zstandard's stream reader."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            self._buffer = next(self._chunks, None)
            if self._buffer is None:
                self._buffer = b""
                return b""
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _unzstd(raw: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    reader = decompressor.stream_reader(_IterReader(raw), read_across_frames=True)
    while chunk := reader.read(_CHUNK):
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
_DECODE_ERRORS: tuple[type[Exception], ...] = (
    (zlib.error,) + ((brotli.error,) if brotli else ()) + ((zstandard.ZstdError,) if zstandard else ())
)


def _decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
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


# --- media type ----------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


# --- the fetcher ---------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Fetcher:
    """GET with every safety cap of FetchPolicy; thread-safe, one per process is enough."""

    def __init__(self, policy: FetchPolicy, limiter: HostLimiter | None = None) -> None:
        self.policy = policy
        self.limiter = limiter or LocalHostLimiter(policy.host_concurrency, policy.host_delay, policy.max_concurrency)
        allow_hosts = frozenset(allow_entry(h) for h in policy.allow_hosts)
        self._client = httpx.Client(
            transport=_GuardedTransport(policy, allow_hosts),
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(policy.timeout, connect=policy.connect_timeout),
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            # No cookies: every fetch stands alone, nothing leaks from one source to another.
            cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        )
        self.robots = RobotsCache(self._fetch_robots, policy.user_agent)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        check_robots: bool = True,
    ) -> FetchResult:
        headers = {"Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._fetch(
            url,
            headers,
            check_robots=check_robots and self.policy.obey_robots,
            max_bytes=self.policy.max_bytes,
        )

    def _fetch_robots(self, url: str) -> tuple[int | None, bytes]:
        """(status, body) for RobotsCache.

        A refused address, a network failure or a timeout is raised, not cached as
        "disallowed": the page itself would fail the same way, and its error says why.
        """
        try:
            result = self._fetch(
                url,
                {"Accept": "text/plain"},
                check_robots=False,
                max_bytes=ROBOTS_MAX_BYTES,
                truncate=True,
            )
        except FetchError as exc:
            if exc.kind == "http-status":
                return exc.status, b""
            if exc.kind == "too-many-redirects":
                return None, b""
            raise
        return result.status, result.content

    def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        *,
        check_robots: bool,
        max_bytes: int,
        truncate: bool = False,
    ) -> FetchResult:
        started = time.monotonic()
        deadline: float | None = None
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            target = self._checked_url(current, url)
            if check_robots and not self._robots_allow(str(target), current, url):
                raise FetchError("robots", current, _via(self.robots.explain(str(target)), current, url))
            with self.limiter.slot(host_of(str(target))):
                if deadline is None:  # waiting for a turn is not the server's slowness
                    deadline = time.monotonic() + self.policy.timeout
                token = _deadline.set(deadline)
                try:
                    with self._client.stream("GET", target, headers=headers) as response:
                        location = response.headers.get("location")
                        if response.status_code in REDIRECT_STATUSES and location:
                            current = urljoin(str(target), location.strip())
                            continue
                        return self._result(url, response, headers, started, max_bytes, truncate)
                except BlockedAddress as exc:
                    raise FetchError("blocked-address", current, _via(str(exc), current, url)) from None
                except httpx.TimeoutException:
                    message = f"timeout: no complete answer from {target.host} within {self.policy.timeout:g}s"
                    raise FetchError("timeout", current, message) from None
                except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                    raise FetchError("bad-url", current, f"bad URL {current!r}: {exc}") from None
                except httpx.TransportError as exc:
                    raise FetchError("network", current, _via(f"network error: {exc}", current, url)) from None
                finally:
                    _deadline.reset(token)
        raise FetchError("too-many-redirects", url, f"more than {self.policy.max_redirects} redirects from {url}")

    def _robots_allow(self, target: str, current: str, original: str) -> bool:
        try:
            return self.robots.allowed(target)
        except FetchError as exc:  # robots.txt could not be fetched: report it for the page
            raise FetchError(exc.kind, current, _via(str(exc), current, original), status=exc.status) from None

    def _checked_url(self, url: str, original: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchError("bad-url", url, f"bad URL {url!r}: {exc}") from None
        if parsed.scheme not in {"http", "https"}:
            raise FetchError(
                "bad-url",
                url,
                _via(f"refused: only http and https URLs are fetched, not {url!r}", url, original),
            )
        if parsed.userinfo:
            raise FetchError("bad-url", url, "refused: URLs with credentials are never fetched")
        if not parsed.host:
            raise FetchError("bad-url", url, f"bad URL {url!r}: no host")
        return parsed.copy_with(fragment=None)

    def _result(
        self,
        url: str,
        response: httpx.Response,
        sent: dict[str, str],
        started: float,
        max_bytes: int,
        truncate: bool,
    ) -> FetchResult:
        final_url = str(response.request.url)
        status = response.status_code
        if status >= 300 and status != 304:
            retry_after = _retry_after(response.headers.get("retry-after")) if status in {429, 503} else None
            reason = response.reason_phrase or ""
            raise FetchError(
                "http-status",
                final_url,
                f"HTTP {status} {reason}".rstrip() + f" from {final_url}",
                status=status,
                retry_after=retry_after,
            )
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        if status == 304:  # a 304 need not repeat the validators; the ones sent still hold
            content = b""
            etag = etag or sent.get("If-None-Match")
            last_modified = last_modified or sent.get("If-Modified-Since")
        else:
            content = self._read_body(response, final_url, max_bytes, truncate)
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            headers=response.headers,
            content=content,
            etag=etag,
            last_modified=last_modified,
            elapsed=time.monotonic() - started,
        )

    def _read_body(self, response: httpx.Response, url: str, max_bytes: int, truncate: bool) -> bytes:
        too_large = FetchError("too-large", url, f"too large: {url} is bigger than {max_bytes} bytes")
        encoding = response.headers.get("content-encoding")
        declared = response.headers.get("content-length", "")
        if not truncate and not encoding and declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        parts: list[bytes] = []
        size = 0
        try:
            for chunk in _decoded(response.iter_raw(), encoding):
                size += len(chunk)
                if size > max_bytes:
                    if not truncate:
                        raise too_large
                    parts.append(chunk[: len(chunk) - (size - max_bytes)])
                    break
                parts.append(chunk)
        except ValueError as exc:  # unsupported coding
            raise FetchError("network", url, f"cannot decode {url}: {exc}") from None
        except _DECODE_ERRORS as exc:
            raise FetchError("network", url, f"corrupt {encoding} body from {url}: {exc}") from None
        return b"".join(parts)


def _via(message: str, current: str, original: str) -> str:
    return message if current == original else f"{message}, redirected from {original}"
