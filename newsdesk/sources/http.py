"""The one way newsdesk talks to publishers: a guarded, polite, size- and time-capped GET.

Everything fetched is hostile. Connections go through the address guard (`guard.py`:
public addresses only, resolved once, a total deadline), bodies through bounded
decompression (`decompress.py`) and the size cap, text through the one charset decoder
(`newsdesk.charset`); robots.txt and per-host politeness are checked first.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from types import TracebackType
from typing import Self
from urllib.parse import urljoin

import httpx

from newsdesk import turns
from newsdesk.charset import decode_text, media_type
from newsdesk.links import host_of

from . import guard
from .decompress import ACCEPT_ENCODING, DECODE_ERRORS, decoded
from .guard import BlockedAddress, GuardedTransport, allow_entry
from .politeness import HostLimiter, LocalHostLimiter
from .robots import RobotsCache

__all__ = [
    "FetchError",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
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


def _rebuild_error(kind: str, url: str, message: str, status: int | None, retry_after: float | None) -> FetchError:
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
        """The body as text (newsdesk.charset's policy), decoded once per result."""
        return self._text

    @cached_property
    def _text(self) -> str:
        return decode_text(self.content, self.headers.get("content-type"))


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
            transport=GuardedTransport(policy.max_concurrency, allow_hosts),
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
        max_bytes: int | None = None,
    ) -> FetchResult:
        """`max_bytes` lowers the policy's cap for this fetch (images have a smaller one)."""
        headers = {"Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with turns.aside():  # a publisher's server, in a web request (the desk's "add")
            return self._fetch(
                url,
                headers,
                check_robots=check_robots and self.policy.obey_robots,
                max_bytes=min(max_bytes, self.policy.max_bytes) if max_bytes else self.policy.max_bytes,
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
                token = guard.deadline.set(deadline)
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
                    guard.deadline.reset(token)
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
            for chunk in decoded(response.iter_raw(), encoding):
                size += len(chunk)
                if size > max_bytes:
                    if not truncate:
                        raise too_large
                    parts.append(chunk[: len(chunk) - (size - max_bytes)])
                    break
                parts.append(chunk)
        except ValueError as exc:  # unsupported coding
            raise FetchError("network", url, f"cannot decode {url}: {exc}") from None
        except DECODE_ERRORS as exc:
            raise FetchError("network", url, f"corrupt {encoding} body from {url}: {exc}") from None
        return b"".join(parts)


def _via(message: str, current: str, original: str) -> str:
    return message if current == original else f"{message}, redirected from {original}"
