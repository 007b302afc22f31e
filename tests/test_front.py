"""The web front of `newsdesk up` (newsdesk/web/front.py): nginx's microcache in front of
gunicorn, or gunicorn alone when nginx is missing.

The nginx tests start the generated config on 127.0.0.1 in front of a small stub
upstream that counts requests and answers what Django would (public pages with
s-maxage, private pages, cookies), then check what nginx keeps and what it passes
through. The last test runs `newsdesk up` itself with nginx in front of the real site.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsdesk.supervisor import wait_for_http
from newsdesk.web import front
from tests.subprocess_json import prepare_site

needs_nginx = pytest.mark.skipif(front.nginx_binary() is None, reason="nginx is not installed")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_runtime_dirs_left(tmp_path):
    """Run as root, nginx's cache lives under /var/cache (front.runtime_dir): remove it."""
    yield
    for directory in (tmp_path / "nginx", tmp_path / "data" / "nginx"):
        front.remove_runtime(directory)


# --- the plan -------------------------------------------------------------------------------


def test_plan_puts_nginx_in_front_with_gunicorn_inside(tmp_path, monkeypatch, settings):
    monkeypatch.setattr(front, "nginx_binary", lambda: "/usr/sbin/nginx")
    settings.NEWSDESK_PROXY_COUNT = 0
    plan = front.plan("0.0.0.0:8000", 3, tmp_path, front="auto", upstream_bind="127.0.0.1:9001")
    assert plan.nginx[0] == "/usr/sbin/nginx" and plan.gunicorn_bind == "127.0.0.1:9001"
    assert plan.gunicorn == front.gunicorn_command("127.0.0.1:9001", 3, access_log=False)
    assert plan.env == {"NEWSDESK_PROXY_COUNT": "1"}  # rate limits see the client, not nginx
    conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert "listen 0.0.0.0:8000;" in conf and "server 127.0.0.1:9001 max_fails=0;" in conf
    assert "proxy_cache_bypass $newsdesk_personal $http_authorization;" in conf
    assert "proxy_no_cache $newsdesk_personal $http_authorization;" in conf
    assert "(sessionid|messages)=" in conf and "proxy_cache_valid" not in conf
    # gunicorn restarts are retried, not 502: the one upstream is listed for retries, never marked down.
    assert conf.count("server 127.0.0.1:9001 max_fails=0;") == front.UPSTREAM_COPIES >= 2
    assert "proxy_next_upstream error timeout;" in conf
    assert "X-Forwarded-Proto $newsdesk_proto;" in conf and '"https" https;' not in conf  # nginx's own scheme
    settings.NEWSDESK_PROXY_COUNT = 1  # already behind a TLS proxy
    assert front.plan("0.0.0.0:8000", 1, tmp_path, upstream_bind="127.0.0.1:9001").env == {"NEWSDESK_PROXY_COUNT": "2"}
    assert '"https" https;' in (tmp_path / "nginx" / "nginx.conf").read_text()  # that proxy's scheme passes


def test_plan_falls_back_to_gunicorn_alone_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(front, "nginx_binary", lambda: None)
    plan = front.plan("127.0.0.1:8000", 2, tmp_path)
    assert plan.nginx is None and plan.gunicorn == front.gunicorn_command("127.0.0.1:8000", 2)
    assert "nginx is not installed" in plan.note and not plan.env
    with pytest.raises(RuntimeError):
        front.plan("127.0.0.1:8000", 2, tmp_path, front="nginx")
    monkeypatch.setattr(front, "nginx_binary", lambda: "/usr/sbin/nginx")
    assert front.plan("127.0.0.1:8000", 2, tmp_path, front="gunicorn").nginx is None


@pytest.fixture
def up_children(monkeypatch, settings, tmp_path):
    """Runs `newsdesk up`'s handle() without starting anything: returns what it would
    supervise (commands, extra environments, addresses waited for)."""
    from newsdesk.management.commands import up

    captured = {}

    def supervise(layout):  # instead of becoming the supervisor (exec)
        captured.update(layout, pass_fds={name: tuple(fds) for name, fds in layout["pass_fds"].items()})

    settings.NEWSDESK_DEFAULT_SOURCES = False
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(up, "supervise", supervise)
    monkeypatch.setattr(up, "call_command", lambda *args, **kwargs: None)
    monkeypatch.setattr(up, "prepare_in_child", lambda: None)
    monkeypatch.setattr(up.signal, "signal", lambda *args: None)

    def run(**options) -> dict:
        captured.clear()
        up.Command().handle(**{"no_web": False, "no_scheduler": False, **options})
        return dict(captured)

    return run


def test_up_starts_nginx_last_once_gunicorn_answers(monkeypatch, up_children):
    monkeypatch.setattr(front, "nginx_binary", lambda: "/usr/sbin/nginx")
    captured = up_children(bind=f"127.0.0.1:{front.free_port()}", web_workers=2, workers=1)
    names = list(captured["commands"])
    assert names[-1] == "front" and captured["commands"]["front"][0] == "/usr/sbin/nginx"
    upstream = captured["waits"]["front"]
    # gunicorn and nginx serve listening sockets the supervisor holds across their restarts.
    (inner,), (outer,) = captured["pass_fds"]["web"], captured["pass_fds"]["front"]
    assert captured["commands"]["web"] == front.inherit_socket(
        front.gunicorn_command(upstream, 2, access_log=False), inner
    )
    assert f"fd://{inner}" in captured["commands"]["web"]
    assert captured["envs"]["web"]["NEWSDESK_PROXY_COUNT"] == "1"
    assert captured["envs"]["front"] == {"NGINX": f"{outer};"}
    # The dead master's leftovers: gunicorn's workers killed, nginx's let finish their requests.
    assert captured["groups"] == {"web": signal.SIGKILL, "front": signal.SIGQUIT}


def test_up_runs_what_plan_builds(monkeypatch, up_children, tmp_path):
    """`newsdesk up` and `newsdesk bench web` both start front.plan's processes."""
    bind, upstream = f"127.0.0.1:{front.free_port()}", front.free_port()  # up binds them
    monkeypatch.setattr(front, "free_port", lambda host="127.0.0.1": upstream)
    for nginx in ("/usr/sbin/nginx", None):
        monkeypatch.setattr(front, "nginx_binary", lambda nginx=nginx: nginx)
        captured = up_children(bind=bind, web_workers=3, workers=0, no_scheduler=True)
        plan = front.plan(bind, 3, tmp_path)
        (fd,) = captured["pass_fds"]["web"]
        assert captured["commands"]["web"] == front.inherit_socket(plan.gunicorn, fd)
        # ...and the one embedding model's socket, for ask-the-article.
        assert captured["envs"].get("web", {}) == {**plan.env, "NEWSDESK_EMBEDDER": str(tmp_path / "embedder.sock")}
        assert captured["commands"].get("front") == plan.nginx
    assert plan.gunicorn == front.gunicorn_command(bind, 3)  # gunicorn alone on the address


# --- nginx in front of a stub upstream --------------------------------------------------------


class Upstream:
    """Answers like the site: /public is a shared page, /private a reader's own, /cookie
    sets a cookie; every request is counted with its headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.body = b"version 1"
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                upstream.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                headers = {
                    "Content-Type": "text/html; charset=utf-8",
                    "Vary": "Cookie",
                    "ETag": '"e-' + upstream.body.decode().replace(" ", "-") + '"',
                }
                if self.path.startswith("/public"):
                    headers["Cache-Control"] = "public, max-age=0, s-maxage=2"
                elif self.path.startswith("/cookie"):
                    headers["Cache-Control"] = "public, max-age=0, s-maxage=2"
                    headers["Set-Cookie"] = "csrftoken=abc; Path=/"
                else:
                    headers["Cache-Control"] = "private"
                inm = self.headers.get("If-None-Match")
                if inm and inm == headers["ETag"]:
                    self.send_response(304)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    return
                body = upstream.body + b" for " + self.path.encode()
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def request(port: int, path: str, headers: dict | None = None, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def nginx_front(tmp_path):
    upstream = Upstream()
    port = front.free_port()
    plan = front.plan(f"127.0.0.1:{port}", 1, tmp_path, front="nginx", upstream_bind=f"127.0.0.1:{upstream.port}")
    proc = subprocess.Popen(plan.nginx, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert front.wait_for_port(f"127.0.0.1:{port}", 20, lambda: proc.poll() is None), (
            tmp_path / "nginx" / "error.log"
        ).read_text()
        yield port, upstream
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        upstream.server.shutdown()


@needs_nginx
def test_nginx_serves_public_pages_from_its_cache(nginx_front):
    port, upstream = nginx_front
    status, headers, body = request(port, "/public")
    assert status == 200 and headers["x-cache"] == "MISS" and body == b"version 1 for /public"
    for _ in range(5):
        status, headers, body = request(port, "/public", {"Cookie": "theme=dark"})  # unrelated cookie
        assert status == 200 and headers["x-cache"] == "HIT" and body == b"version 1 for /public"
    assert upstream.count("/public") == 1
    assert "server" not in headers or "nginx/" not in headers["server"]
    # A conditional GET is answered by nginx from its copy.
    status, _, body = request(port, "/public", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b"" and upstream.count("/public") == 1
    # The client's address reaches the site in X-Forwarded-For.
    assert upstream.requests[0][1]["x-forwarded-for"] == "127.0.0.1"
    assert upstream.requests[0][1]["host"] == f"127.0.0.1:{port}"


@needs_nginx
def test_nginx_never_shares_a_readers_page(nginx_front):
    port, upstream = nginx_front
    request(port, "/public")  # cached now
    for cookie in ("sessionid=s3cret", "theme=dark; sessionid=s3cret", "messages=abc"):
        status, headers, body = request(port, "/public", {"Cookie": cookie})
        assert headers["x-cache"] == "BYPASS", cookie
    status, headers, _ = request(port, "/public", {"Authorization": "Bearer t"})
    assert headers["x-cache"] == "BYPASS"
    assert upstream.count("/public") == 5
    # A logged-in request never fills the cache either.
    request(port, "/public?fresh", {"Cookie": "sessionid=s3cret"})
    assert request(port, "/public?fresh")[1]["x-cache"] == "MISS"
    # Private pages and pages that set a cookie are never kept.
    for path in ("/private", "/cookie"):
        for _ in range(3):
            status, headers, _ = request(port, path)
            assert status == 200 and headers["x-cache"] in ("MISS", "EXPIRED"), path
        assert upstream.count(path) == 3, path


@needs_nginx
def test_nginx_copy_expires_after_s_maxage(nginx_front):
    port, upstream = nginx_front
    assert request(port, "/public")[2] == b"version 1 for /public"
    upstream.body = b"version 2"
    assert request(port, "/public")[2] == b"version 1 for /public"  # within s-maxage
    time.sleep(2.2)
    deadline = time.monotonic() + 5
    body = b""
    while time.monotonic() < deadline:  # stale while one request refreshes it
        body = request(port, "/public")[2]
        if body == b"version 2 for /public":
            break
        time.sleep(0.1)
    assert body == b"version 2 for /public"


# --- `newsdesk up` with nginx in front of the real site ----------------------------------------


@needs_nginx
@pytest.mark.slow
def test_newsdesk_up_serves_anonymous_pages_from_nginx_and_bypasses_sessions(tmp_path):
    data = tmp_path / "data"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
        "NEWSDESK_DATA_DIR": str(data),
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    printed = prepare_site(env, "from tests import web_data; w = web_data.build_world(); print(w.article.pk)")
    pk = int(printed.strip().splitlines()[-1])
    port = front.free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsdesk",
            "up",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "0",
            "--no-scheduler",
            "--web-workers",
            "1",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # The supervisor holds the port from the start: wait for the site to answer, not
        # for a backlog that accepts connections while gunicorn is still booting.
        assert wait_for_http(f"127.0.0.1:{port}", 120, lambda: proc.poll() is None)
        url = f"/articles/{pk}/"
        status, headers, first = request(port, url)
        assert status == 200 and headers["x-cache"] == "MISS"
        assert "public" in headers["cache-control"] and "s-maxage=2" in headers["cache-control"]
        assert b"csrfmiddlewaretoken" not in first and "set-cookie" not in headers
        status, headers, again = request(port, url)
        assert status == 200 and headers["x-cache"] == "HIT" and again == first
        assert headers["content-security-policy"].startswith("default-src 'self'")
        status, headers, _ = request(port, url, {"Cookie": "sessionid=not-a-session"})
        assert status == 200 and headers["x-cache"] == "BYPASS"
        # The worker may still be loading the embedding model (about 11 s on a slow 2-core box).
        status, headers, _ = request(port, f"/articles/{pk}/ask?question=Who+is+Lukashenko%3F", timeout=90)
        assert status == 200 and "private" in headers["cache-control"]
        assert headers["x-cache"] in ("MISS", "EXPIRED")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
    assert "nginx on 127.0.0.1" in output, output[-3000:]


def test_supervisor_restarts_at_once_and_backs_off_only_for_quick_deaths():
    """A reader waits for the web server, not for the supervisor: the first restart is
    immediate; a child that keeps dying young waits longer each time, up to a cap."""
    from newsdesk.supervisor import Supervisor

    supervisor = Supervisor({"web": ["true"]})
    supervisor.started["web"] = 0.0
    assert supervisor._restart_delay("web", 3600.0) == 0.0  # ran an hour: at once
    supervisor.quick_exits.clear()
    delays = []
    for _ in range(10):
        delays.append(supervisor._restart_delay("web", 1.0))  # died after 1 s, again and again
    assert delays[:4] == [0.0, 0.25, 0.5, 1.0] and delays[-1] == Supervisor.MAX_RETRY
    assert supervisor._restart_delay("web", Supervisor.STABLE + 1) == 0.0  # stable again: at once
