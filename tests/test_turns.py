"""Requests take turns at Python in a web process (newsdesk/turns.py), and one that waits
steps aside: in threads here, then in gunicorn as `newsdesk up` runs it."""

from __future__ import annotations

import http.client
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bench.web import site_env
from newsdesk import turns
from newsdesk.supervisor import wait_for_http
from newsdesk.web import front
from tests.subprocess_json import prepare_site

ROOT = Path(__file__).resolve().parent.parent


def _queued() -> int:
    return len(turns._turns._waiting)


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_requests_run_one_at_a_time_in_arrival_order():
    running, most, order = [0], [0], []
    gate = threading.Event()
    lock = threading.Lock()

    def app(environ, start_response):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        if environ["n"] == 0:
            gate.wait(5)
        order.append(environ["n"])
        time.sleep(0.002)
        with lock:
            running[0] -= 1
        return [b"ok"]

    served = turns.serve(app)
    threads = []
    for n in range(6):
        thread = threading.Thread(target=served, args=({"n": n}, None))
        thread.start()
        threads.append(thread)
        # Each one queues before the next arrives (the first holds the turn).
        _wait_until(lambda n=n: order == [] and (n == 0 and turns._turns._held or _queued() == n))
    gate.set()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4, 5]
    assert most[0] == 1
    assert not turns._turns._held and _queued() == 0


def test_a_request_that_waits_steps_aside_and_queues_again():
    events = []
    waiting, done_waiting = threading.Event(), threading.Event()

    def app(environ, start_response):
        if environ["name"] == "slow":
            events.append("slow starts")
            with turns.aside():
                waiting.set()
                done_waiting.wait(5)  # an LLM, the write lock, a publisher's page
            events.append("slow ends")
        else:
            events.append("quick")
        return [b"ok"]

    served = turns.serve(app)
    slow = threading.Thread(target=served, args=({"name": "slow"}, None))
    slow.start()
    assert waiting.wait(5)
    quick = threading.Thread(target=served, args=({"name": "quick"}, None))
    quick.start()
    quick.join(5)
    assert events == ["slow starts", "quick"]  # served while the slow one waited
    done_waiting.set()
    slow.join(5)
    assert events == ["slow starts", "quick", "slow ends"]
    assert not turns._turns._held


def test_a_failing_request_gives_its_turn_back_and_aside_outside_a_request_is_a_no_op():
    def app(environ, start_response):
        raise ValueError("broken page")

    with pytest.raises(ValueError):
        turns.serve(app)({}, None)
    assert not turns._turns._held
    with turns.aside():  # a worker or the scheduler: nothing to give back
        assert not turns._turns._held
    assert not turns._turns._held
    assert turns.serve(lambda environ, start_response: [b"next"])({}, None) == [b"next"]


# --- in gunicorn, as `newsdesk up` runs it --------------------------------------------------


def _request(port: int, method: str, path: str, headers: dict | None = None, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


@pytest.mark.slow
def test_gunicorn_serves_pages_while_a_request_waits_for_the_write_lock(tmp_path):
    """One web process of four threads: a login whose session write waits for SQLite's
    write lock (held here, as a busy ingest worker would) steps aside, and a page asked
    for meanwhile is served at once; the login completes when the lock is free."""
    data = tmp_path / "data"
    env = {**site_env(data), "NEWSDESK_WARM_UP": "0"}  # production settings; no model: no question asked
    env.pop("REDIS_URL", None)  # the sessions in the SQLite file, behind its write lock
    prepare_site(
        env,
        "from django.contrib.auth import get_user_model;"
        "get_user_model().objects.create_user('turns-reader', password='turns-password-9')",
        static=True,
    )
    port = front.free_port()
    command = front.gunicorn_command(f"127.0.0.1:{port}", 1, access_log=False)
    assert command[command.index("--threads") + 1] == str(front.THREADS) == "4"
    server = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    lock = None
    try:
        assert wait_for_http(f"127.0.0.1:{port}", 120, lambda: server.poll() is None)
        status, headers, body = _request(port, "GET", "/accounts/login/")
        assert status == 200
        csrf = next(
            v.split(";")[0].split("=", 1)[1] for k, v in headers if k.lower() == "set-cookie" and "csrftoken=" in v
        )
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()

        lock = sqlite3.connect(data / "newsdesk.sqlite3", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the write lock, as a worker storing articles holds it
        login: dict = {}

        def log_in():
            started = time.monotonic()
            login["reply"] = _request(
                port,
                "POST",
                "/accounts/login/",
                {"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"},
                urlencode({"csrfmiddlewaretoken": token, "username": "turns-reader", "password": "turns-password-9"}),
            )
            login["seconds"] = time.monotonic() - started

        poster = threading.Thread(target=log_in)
        poster.start()
        time.sleep(1.0)  # the login is waiting for the lock by now
        assert poster.is_alive()
        started = time.monotonic()
        status, _, page = _request(port, "GET", "/sources/")
        served_in = time.monotonic() - started
        assert status == 200 and b"<html" in page
        assert served_in < 2.0, f"a page waited {served_in:.1f} s behind a login waiting for the write lock"
        assert poster.is_alive()  # the lock is still held: the login still waits
        time.sleep(0.5)
        lock.execute("COMMIT")
        poster.join(30)
        status, headers, _ = login["reply"]
        assert status == 302 and any("sessionid=" in v for k, v in headers if k.lower() == "set-cookie")
        assert login["seconds"] >= 1.4  # it did wait for the lock, and then went through
    finally:
        if lock is not None:
            lock.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
