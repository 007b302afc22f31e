"""The address guard: connections to publishers only ever reach public addresses.

Everything fetched is hostile: a feed URL typed by a user, a redirect, or a DNS answer can
all point at the machine itself or its private network (SSRF). The guard therefore sits
where the socket is opened, not where the URL is read: `GuardedBackend` resolves the
name, refuses the connection when any answer is a non-public address, and connects to the
checked IP literal. A second resolution (DNS rebinding) never happens, redirects go
through the same path, and TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

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
    addresses = list(
        dict.fromkeys(str(info[4][0]) for info in infos)
    )  # (an int only for a family Python cannot decode)
    if not _allowed(host, port, allow_hosts):
        for address in addresses:
            reason = blocked_reason(ipaddress.ip_address(address.split("%")[0]))
            if reason:
                raise BlockedAddress(host, address, reason)
    return addresses


# A get() sets its deadline here; every socket operation of that get() is clamped to it.
# httpx's own timeouts apply per read, so a server dripping one byte a second is never cut
# off by them alone.
deadline: ContextVar[float | None] = ContextVar("newsdesk_fetch_deadline", default=None)


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    until = deadline.get()
    if until is None:
        return timeout
    remaining = until - time.monotonic()
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

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> _DeadlineStream:
        timeout = _budget(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
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


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with a connection pool built on the guarded backend.

    HTTPTransport offers no way to pass a network backend, so its __init__ (which would
    build an unguarded pool) is replaced; everything else, including the mapping of
    httpcore errors to httpx errors, is inherited.
    """

    def __init__(self, max_concurrency: int, allow_hosts: frozenset[str]) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_concurrency + 4,  # + robots.txt fetches
            max_keepalive_connections=max_concurrency,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(allow_hosts),
        )
