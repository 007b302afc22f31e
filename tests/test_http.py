"""The guarded fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import email.utils
import gzip
import ipaddress
import itertools
import pickle
import socket
import threading
import time
import tracemalloc
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

from newsdesk.charset import decode_text
from newsdesk.sources import guard
from newsdesk.sources.guard import blocked_reason
from newsdesk.sources.http import Fetcher, FetchError, FetchPolicy
from newsdesk.sources.politeness import LocalHostLimiter
from tests.fixtureserver import FixtureServer, Reply, Request

LOCAL = frozenset({"127.0.0.1"})


def policy(**overrides: object) -> FetchPolicy:
    defaults: dict[str, object] = {
        "allow_hosts": LOCAL,
        "host_delay": 0.0,
        "obey_robots": False,
        "timeout": 5.0,
    }
    return FetchPolicy(**(defaults | overrides))


@pytest.fixture
def fetcher():
    with Fetcher(policy()) as f:
        yield f


def fetch_error(fetcher: Fetcher, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.get(url, **kwargs)
    return info.value


# --- basics ---------------------------------------------------------------------------


def test_get_returns_body_headers_and_sends_identity(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    fixture_server.route(
        "/basic",
        Reply(200, b"hello", {"Content-Type": "Text/Plain; charset=utf-8", "ETag": '"e1"'}),
    )

    result = fetcher.get(fixture_server.url("/basic"), accept="text/plain")

    assert (result.status, result.content, result.text()) == (200, b"hello", "hello")
    assert result.content_type == "text/plain"
    assert result.headers["etag"] == result.headers["ETag"] == '"e1"'
    assert result.etag == '"e1"' and not result.not_modified
    assert result.final_url == result.url == fixture_server.url("/basic")
    sent = fixture_server.hits("/basic")[-1].headers
    assert sent["user-agent"] == "newsdesk/0.1"
    assert sent["accept"] == "text/plain"
    assert "gzip" in sent["accept-encoding"] and "br" in sent["accept-encoding"]


def test_feed_fixture_is_served_and_decoded(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    result = fetcher.get(fixture_server.url("/feeds/rss20.xml"))
    assert result.content_type == "application/xml"
    assert "Council approves" in result.text()


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
def test_conditional_get_gives_304(fixture_server: FixtureServer, fetcher: Fetcher, validator: str) -> None:
    stamp = "Tue, 05 Mar 2024 14:30:00 GMT"

    def answer(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"' or request.headers.get("if-modified-since") == stamp:
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, b"<rss/>", {"ETag": '"v1"', "Last-Modified": stamp})

    path = f"/conditional-{validator}"
    fixture_server.route(path, answer)
    first = fetcher.get(fixture_server.url(path))
    assert first.status == 200 and first.etag == '"v1"' and first.last_modified == stamp

    kwargs = {"etag": first.etag} if validator == "etag" else {"last_modified": first.last_modified}
    second = fetcher.get(fixture_server.url(path), **kwargs)

    assert second.status == 304 and second.not_modified and second.content == b""
    assert second.etag == '"v1"'
    if validator == "last_modified":  # the 304 does not repeat it; the one sent still holds
        assert second.last_modified == stamp


def test_http_error_status(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    error = fetch_error(fetcher, fixture_server.url("/no-such-file.xml"))
    assert (error.kind, error.status, error.retry_after) == ("http-status", 404, None)
    assert "HTTP 404" in str(error)


def test_retry_after_seconds_on_429(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    fixture_server.route("/busy-429", Reply(429, b"slow down", {"Retry-After": "120"}))
    error = fetch_error(fetcher, fixture_server.url("/busy-429"))
    assert (error.kind, error.status, error.retry_after) == ("http-status", 429, 120.0)


def test_retry_after_http_date_on_503(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    when = email.utils.formatdate(time.time() + 300, usegmt=True)
    fixture_server.route("/busy-503", Reply(503, b"", {"Retry-After": when}))
    error = fetch_error(fetcher, fixture_server.url("/busy-503"))
    assert error.status == 503 and 290 <= error.retry_after <= 300


def test_fetch_error_survives_pickling() -> None:
    error = FetchError("http-status", "https://a.example/", "HTTP 503", status=503, retry_after=5.0)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, copy.url, str(copy), copy.status, copy.retry_after) == (
        "http-status",
        "https://a.example/",
        "HTTP 503",
        503,
        5.0,
    )


def test_no_cookies_kept_between_requests(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    fixture_server.route("/cookie", Reply(200, b"x", {"Set-Cookie": "session=abc; Path=/"}))
    fetcher.get(fixture_server.url("/cookie"))
    fetcher.get(fixture_server.url("/cookie"))
    assert all("cookie" not in r.headers for r in fixture_server.hits("/cookie"))


def test_proxy_environment_is_ignored(fixture_server: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://192.0.2.1:3128")  # a proxy that does not exist
    fixture_server.route("/direct", Reply(200, b"direct"))
    with Fetcher(policy(timeout=2.0)) as fetcher:
        assert fetcher.get(fixture_server.url("/direct")).content == b"direct"


# --- redirects ------------------------------------------------------------------------


def test_relative_and_absolute_redirects(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    fixture_server.route("/r/start", Reply(301, b"", {"Location": "../r2/next"}))
    fixture_server.route("/r2/next", Reply(302, b"", {"Location": fixture_server.url("/r3/final")}))
    fixture_server.route("/r3/final", Reply(200, b"arrived"))

    result = fetcher.get(fixture_server.url("/r/start"))

    assert result.content == b"arrived"
    assert result.url == fixture_server.url("/r/start")
    assert result.final_url == fixture_server.url("/r3/final")


@pytest.mark.parametrize(("hops", "ok"), [(5, True), (6, False)])
def test_redirect_chain_is_capped(fixture_server: FixtureServer, hops: int, ok: bool) -> None:
    for i in range(hops):
        fixture_server.route(f"/chain{hops}/{i}", Reply(307, b"", {"Location": f"/chain{hops}/{i + 1}"}))
    fixture_server.route(f"/chain{hops}/{hops}", Reply(200, b"end"))
    with Fetcher(policy(max_redirects=5)) as fetcher:
        if ok:
            assert fetcher.get(fixture_server.url(f"/chain{hops}/0")).content == b"end"
        else:
            error = fetch_error(fetcher, fixture_server.url(f"/chain{hops}/0"))
            assert error.kind == "too-many-redirects"
            assert not fixture_server.hits(f"/chain{hops}/{hops}")


# --- the address guard ------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "0.0.0.0",
        "169.254.169.254",
        "100.64.1.1",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.10",
        "198.18.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
        "2001:db8::1",
        "::127.0.0.1",
    ],
)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_loopback_is_blocked_without_allow_list(fixture_server: FixtureServer) -> None:
    fixture_server.route("/secret", Reply(200, b"internal"))
    with Fetcher(FetchPolicy(host_delay=0)) as fetcher:  # robots on: it must not leak either
        error = fetch_error(fetcher, fixture_server.url("/secret"))
    assert error.kind == "blocked-address"
    assert str(error) == "blocked: 127.0.0.1 is a loopback address (host 127.0.0.1)"
    assert not fixture_server.hits("/secret")


@pytest.mark.parametrize(
    ("target", "address"),
    [
        ("http://10.0.0.1/admin", "10.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:{port}/landing", "::1"),
        ("http://[::ffff:127.0.0.1]:{port}/landing", "::ffff:127.0.0.1"),
        ("http://localhost:{port}/landing", "localhost"),  # a name that resolves to loopback
        ("http://2130706433:{port}/landing", "127.0.0.1"),  # 127.0.0.1 as one number
        ("http://0.0.0.0:{port}/landing", "0.0.0.0"),
    ],
)
def test_redirect_to_private_address_is_blocked(
    fixture_server: FixtureServer, fetcher: Fetcher, target: str, address: str
) -> None:
    fixture_server.route("/landing", Reply(200, b"should never be served"))
    path = f"/to-private/{address}"
    fixture_server.route(path, Reply(302, b"", {"Location": target.format(port=fixture_server.port)}))

    error = fetch_error(fetcher, fixture_server.url(path))

    assert error.kind == "blocked-address", str(error)
    assert str(error).startswith("blocked: ")
    assert f"redirected from {fixture_server.url(path)}" in str(error)
    assert not fixture_server.hits("/landing")


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Answer getaddrinfo for made-up names; returns the list of names looked up."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_allowed_name_connects_to_the_checked_address_once(
    fixture_server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved exactly once and the socket goes to that address.

    feeds.test exists only in the fake resolver, so a second lookup by the socket layer
    would fail; the Host header still carries the name.
    """
    asked = fake_dns(monkeypatch, {"feeds.test": ["127.0.0.1"]})
    fixture_server.route("/by-name", Reply(200, b"named"))
    with Fetcher(policy(allow_hosts=frozenset({"feeds.test"}))) as fetcher:
        result = fetcher.get(f"http://feeds.test:{fixture_server.port}/by-name")
    assert result.content == b"named"
    assert asked.count("feeds.test") == 1
    assert fixture_server.hits("/by-name")[-1].headers["host"] == f"feeds.test:{fixture_server.port}"


def test_every_dns_answer_is_checked(fixture_server: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with one public and one private answer (a rebinding setup) is refused."""
    fake_dns(monkeypatch, {"rebind.test": ["93.184.216.34", "127.0.0.1"]})
    with Fetcher(policy()) as fetcher:
        error = fetch_error(fetcher, f"http://rebind.test:{fixture_server.port}/x")
    assert error.kind == "blocked-address"
    assert "127.0.0.1 is a loopback address (host rebind.test)" in str(error)


def test_allow_list_is_by_host_name_not_by_address(fixture_server: FixtureServer) -> None:
    """Allowing 127.0.0.1 does not allow every name that happens to resolve to it."""
    with Fetcher(policy(allow_hosts=frozenset({"127.0.0.1"}))) as fetcher:
        error = fetch_error(fetcher, f"http://localhost:{fixture_server.port}/feeds/rss20.xml")
    assert error.kind == "blocked-address" and "loopback" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/feed.xml",
        "file:///etc/passwd",
        "http://user:secret@127.0.0.1/",
        "gopher://127.0.0.1:70/",
        "http:///nohost",
        "not a url",
    ],
)
def test_bad_urls(fetcher: Fetcher, url: str) -> None:
    assert fetch_error(fetcher, url).kind == "bad-url"


def test_redirect_to_file_scheme_is_refused(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    fixture_server.route("/to-file", Reply(302, b"", {"Location": "file:///etc/passwd"}))
    error = fetch_error(fetcher, fixture_server.url("/to-file"))
    assert error.kind == "bad-url" and "only http and https" in str(error)


# --- time and size caps -----------------------------------------------------------------


def test_slow_first_byte_hits_total_timeout(fixture_server: FixtureServer) -> None:
    fixture_server.route("/slow-start", Reply(200, b"late", delay=3.0))
    with Fetcher(policy(timeout=0.5)) as fetcher:
        started = time.monotonic()
        error = fetch_error(fetcher, fixture_server.url("/slow-start"))
    assert error.kind == "timeout"
    assert time.monotonic() - started < 1.5


def test_slow_drip_body_hits_total_timeout(fixture_server: FixtureServer) -> None:
    """Each chunk comes well within a read timeout, but the whole body does not."""
    fixture_server.route("/drip", lambda _req: Reply(200, (b"x" for _ in range(60)), chunk_delay=0.05))
    with Fetcher(policy(timeout=0.6)) as fetcher:
        started = time.monotonic()
        error = fetch_error(fetcher, fixture_server.url("/drip"))
    assert error.kind == "timeout"
    assert 0.5 < time.monotonic() - started < 1.2


def test_endless_body_hits_size_cap(fixture_server: FixtureServer) -> None:
    fixture_server.route("/endless", lambda _req: Reply(200, itertools.repeat(b"a" * 65536)))
    with Fetcher(policy(max_bytes=1_000_000)) as fetcher:
        error = fetch_error(fetcher, fixture_server.url("/endless"))
    assert error.kind == "too-large"


def test_declared_length_over_cap_is_refused(fixture_server: FixtureServer) -> None:
    fixture_server.route("/big", Reply(200, b"b" * 200_000))
    with Fetcher(policy(max_bytes=100_000)) as fetcher:
        assert fetch_error(fetcher, fixture_server.url("/big")).kind == "too-large"
        assert len(fetcher.get(fixture_server.url("/feeds/rss092.xml")).content) < 100_000


ZEROS = b"\0" * (1 << 20)


@cache
def bomb(coding: str) -> bytes:
    """A few hundred KB at most that decode to hundreds of MB of zeros."""
    if coding == "gzip":
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        return b"".join(c.compress(ZEROS) for _ in range(64)) + c.flush()
    if coding == "br":
        import brotli

        c = brotli.Compressor(quality=5)
        return b"".join(c.process(ZEROS) for _ in range(256)) + c.finish()
    import zstandard

    c = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join(c.compress(ZEROS) for _ in range(256)) + c.flush()


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_decompression_bomb_hits_size_cap_without_eating_memory(fixture_server: FixtureServer, coding: str) -> None:
    body = bomb(coding)
    fixture_server.route(f"/bomb-{coding}", Reply(200, body, {"Content-Encoding": coding}))
    with Fetcher(policy(max_bytes=1_000_000)) as fetcher:
        tracemalloc.start()
        try:
            error = fetch_error(fetcher, fixture_server.url(f"/bomb-{coding}"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert error.kind == "too-large"
    assert peak < 16_000_000, f"decoding a {len(body)}-byte {coding} bomb peaked at {peak} bytes"


TEXT = ("Les élèves répètent leur leçon près de la fenêtre. " * 40).encode()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw, as some servers send
        ("br", lambda data: __import__("brotli").compress(data)),
        ("zstd", lambda data: __import__("zstandard").ZstdCompressor().compress(data)),
        ("identity", lambda data: data),
    ],
)
def test_content_encodings_are_decoded(fixture_server: FixtureServer, fetcher: Fetcher, coding: str, encode) -> None:
    path = f"/encoded-{coding}-{id(encode)}"
    fixture_server.route(path, Reply(200, encode(TEXT), {"Content-Encoding": coding}))
    assert fetcher.get(fixture_server.url(path)).content == TEXT


def test_corrupt_compressed_body_is_a_network_error(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    fixture_server.route(
        "/corrupt-gzip",
        Reply(200, b"\x1f\x8b\x08\x00garbage-garbage", {"Content-Encoding": "gzip"}),
    )
    assert fetch_error(fetcher, fixture_server.url("/corrupt-gzip")).kind == "network"


def test_unreachable_port_is_a_network_error(fetcher: Fetcher) -> None:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert fetch_error(fetcher, f"http://127.0.0.1:{port}/").kind == "network"


# --- text decoding ------------------------------------------------------------------------

FRENCH = "“Déjà vu” — le café est naïf, à la française. Les élèves répètent leur résumé près de la fenêtre."


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (FRENCH.encode("utf-8"), "text/html; charset=utf-8"),
        (FRENCH.encode("utf-8"), "text/html; charset=iso-8859-1"),  # a wrong label, UTF-8 bytes
        (FRENCH.encode("cp1252"), "text/html; charset=utf-8"),  # a wrong label, windows-1252 bytes
        (FRENCH.encode("cp1252"), "text/html"),  # no label at all
        (FRENCH.encode("cp1252"), "text/html; charset=nonsense-charset"),
        (b'<meta charset="windows-1252"><p>' + FRENCH.encode("cp1252"), "text/html"),
        (
            b'<?xml version="1.0" encoding="windows-1252"?><t>' + FRENCH.encode("cp1252"),
            "application/xml",
        ),
        (b"\xef\xbb\xbf" + FRENCH.encode("utf-8"), "text/plain; charset=cp1252"),
        (FRENCH.encode("utf-16"), None),
        (
            FRENCH.encode("utf-8").replace("café".encode(), b"caf\xe9"),
            "text/html",
        ),  # one broken byte
    ],
)
def test_decode_text_finds_the_right_characters(body: bytes, content_type: str | None) -> None:
    text = decode_text(body, content_type)
    assert "Déjà vu" in text and "fenêtre" in text


def test_decode_text_handles_cyrillic_and_never_raises() -> None:
    russian = "Синоптики обещают снег и сильный ветер в выходные, а также похолодание."
    assert decode_text(russian.encode("cp1251"), "text/plain; charset=windows-1251") == russian
    assert decode_text(russian.encode("cp1251")) == russian
    for junk in (b"", bytes(range(256)), b"\xff\xfe\x00", b"\x81\x8d\x8f\x90\x9d"):
        assert isinstance(decode_text(junk, "text/html; charset=utf-8"), str)


def test_result_text_uses_the_response_charset(fixture_server: FixtureServer, fetcher: Fetcher) -> None:
    russian = "Новости дня: погода в Москве"
    fixture_server.route(
        "/koi8",
        Reply(200, russian.encode("koi8-r"), {"Content-Type": "text/plain; charset=KOI8-R"}),
    )
    assert fetcher.get(fixture_server.url("/koi8")).text() == russian


# --- robots.txt -----------------------------------------------------------------------------


def test_robots_disallow(fresh_server: FixtureServer) -> None:
    fresh_server.route(
        "/robots.txt",
        Reply(
            200,
            b"User-agent: *\nDisallow: /private/\n\nUser-agent: newsdesk\nDisallow: /no-newsdesk/\n",
        ),
    )
    fresh_server.route("/private/page", Reply(200, b"secret"))
    fresh_server.route("/no-newsdesk/page", Reply(200, b"secret"))
    fresh_server.route("/public/page", Reply(200, b"public"))
    with Fetcher(policy(obey_robots=True)) as fetcher:
        assert fetcher.get(fresh_server.url("/public/page")).content == b"public"
        error = fetch_error(fetcher, fresh_server.url("/no-newsdesk/page"))
        assert error.kind == "robots" and "disallows" in str(error)
        # The group for our user agent replaces the * group, as RFC 9309 says.
        assert fetcher.get(fresh_server.url("/private/page")).content == b"secret"
        # check_robots=False is for URLs a person asked for explicitly.
        assert fetcher.get(fresh_server.url("/no-newsdesk/page"), check_robots=False).content == b"secret"
    assert len(fresh_server.hits("/robots.txt")) == 1  # cached per host
    assert len(fresh_server.hits("/no-newsdesk/page")) == 1


def test_robots_for_everyone_else(fresh_server: FixtureServer) -> None:
    fresh_server.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /\n"))
    fresh_server.route("/anything", Reply(200, b"x"))
    with Fetcher(policy(obey_robots=True)) as fetcher:
        assert fetch_error(fetcher, fresh_server.url("/anything")).kind == "robots"
    with Fetcher(policy(obey_robots=False)) as fetcher:
        assert fetcher.get(fresh_server.url("/anything")).content == b"x"
    assert len(fresh_server.hits("/anything")) == 1


def test_missing_robots_allows_everything(fresh_server: FixtureServer) -> None:
    with Fetcher(policy(obey_robots=True)) as fetcher:
        assert fetcher.get(fresh_server.url("/feeds/rss20.xml")).status == 200
    assert [r.path for r in fresh_server.requests] == ["/robots.txt", "/feeds/rss20.xml"]


def test_failing_robots_disallows_for_a_while(fresh_server: FixtureServer) -> None:
    fresh_server.route("/robots.txt", Reply(503, b"down"))
    with Fetcher(policy(obey_robots=True)) as fetcher:
        first = fetch_error(fetcher, fresh_server.url("/feeds/rss20.xml"))
        second = fetch_error(fetcher, fresh_server.url("/feeds/atom10.xml"))
    assert first.kind == second.kind == "robots"
    assert "HTTP 503" in str(first)
    assert len(fresh_server.hits("/robots.txt")) == 1
    assert not fresh_server.hits("/feeds/rss20.xml")


def test_robots_of_the_redirect_target_is_obeyed(fresh_server: FixtureServer) -> None:
    fresh_server.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /hidden\n"))
    fresh_server.route("/open", Reply(301, b"", {"Location": "/hidden"}))
    with Fetcher(policy(obey_robots=True)) as fetcher:
        assert fetch_error(fetcher, fresh_server.url("/open")).kind == "robots"
    assert not fresh_server.hits("/hidden")


# --- politeness -----------------------------------------------------------------------------


def max_overlap(requests: list[Request]) -> int:
    events = sorted([(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_host_concurrency_and_delay_seen_by_the_server(fresh_server: FixtureServer) -> None:
    fresh_server.route("/held", Reply(200, b"ok", delay=0.3))
    with (
        Fetcher(policy(host_concurrency=2, host_delay=0.15)) as fetcher,
        ThreadPoolExecutor(6) as pool,
    ):
        list(pool.map(lambda _: fetcher.get(fresh_server.url("/held")), range(6)))

    requests = fresh_server.hits("/held")
    starts = sorted(r.started for r in requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(requests) == 6
    assert max_overlap(requests) == 2
    assert min(gaps) >= 0.15 - 0.03, gaps


def test_global_cap_across_hosts() -> None:
    limiter = LocalHostLimiter(concurrency=2, delay=0.0, max_concurrency=3)
    lock = threading.Lock()
    running = peak = 0

    def work(host: str) -> None:
        nonlocal running, peak
        with limiter.slot(host):
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(work, [f"host{i % 4}.example" for i in range(12)]))
    assert peak == 3


def test_delay_is_per_host() -> None:
    limiter = LocalHostLimiter(concurrency=1, delay=0.5, max_concurrency=4)
    started = time.monotonic()
    for host in ("a.example", "b.example", "c.example"):
        with limiter.slot(host):
            pass
    assert time.monotonic() - started < 0.2
    with limiter.slot("a.example"):
        pass
    assert time.monotonic() - started >= 0.45


def test_guard_is_installed_in_the_transport() -> None:
    """If httpx stopped using the pool we build, the guard would silently vanish."""
    with Fetcher(policy()) as fetcher:
        pool = fetcher._client._transport._pool
        assert isinstance(pool._network_backend, guard.GuardedBackend)


# --- the allow-list by port -------------------------------------------------------------


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_allow_list_entry_with_a_port_allows_only_that_port(fixture_server: FixtureServer) -> None:
    """`127.0.0.1:PORT` opens that one service, not every port of the machine; the refusal
    is the guard's (blocked-address), before any connection, also after a redirect."""
    other = _unused_port()
    fixture_server.route("/only", Reply(200, b"this port"))
    fixture_server.route("/elsewhere", Reply(302, b"", {"Location": f"http://127.0.0.1:{other}/admin"}))
    allowed = frozenset({f"127.0.0.1:{fixture_server.port}"})
    with Fetcher(policy(allow_hosts=allowed)) as fetcher:
        assert fetcher.get(f"http://127.0.0.1:{fixture_server.port}/only").content == b"this port"
        error = fetch_error(fetcher, f"http://127.0.0.1:{other}/admin")
        assert error.kind == "blocked-address" and "loopback" in str(error)
        error = fetch_error(fetcher, f"http://127.0.0.1:{fixture_server.port}/elsewhere")
        assert error.kind == "blocked-address" and "loopback" in str(error)
    # A bare host keeps its old meaning: every port.
    with Fetcher(policy(allow_hosts=frozenset({"127.0.0.1"}))) as fetcher:
        assert fetcher.get(f"http://127.0.0.1:{fixture_server.port}/only").content == b"this port"


def test_allow_list_entries_parse_hosts_ports_and_ipv6() -> None:
    entry = guard.allow_entry
    assert entry("Feeds.Example:8080") == "feeds.example#8080"
    assert entry("127.0.0.1") == "127.0.0.1" and entry("feeds.example.") == "feeds.example"
    assert entry("[::1]:8080") == "::1#8080" and entry("[::1]") == "::1" and entry("::1") == "::1"
    with pytest.raises(ValueError):
        entry("127.0.0.1:http")
    assert guard._allowed("::1", 8080, frozenset({"::1#8080"}))
    assert not guard._allowed("::1", 8081, frozenset({"::1#8080"}))
