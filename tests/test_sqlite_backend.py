"""A transaction on SQLite must get the write lock soon after it is free (issue 12).

SQLite's busy handler sleeps up to 100 ms between tries, so a comment posted while a
worker commits one short transaction after another could sleep far longer than any
transaction held the lock. Here a holder process takes the lock for 20 ms, frees it for
2 ms, and so on; a waiter starts transactions alternately through SQLite's busy handler
and through the site's backend (newsdesk.sqlite). The backend's slow waits must be well
under the busy handler's: a comparison under the same load, not a fixed time.

Both sides run in subprocesses on an SQLite file of their own (the test database is in
memory and inside a test transaction).
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.subprocess_json import run_json

ROUNDS = 20

HOLDER = """
import sqlite3, sys, threading, time
db = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
print("ready", flush=True)
while not stop.is_set():
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO probe VALUES (?)", (time.time(),))
    time.sleep(0.020)
    db.execute("COMMIT")
    time.sleep(0.002)
"""


@pytest.mark.slow
def test_a_transaction_starts_soon_after_the_lock_is_free(tmp_path):
    result = run_json(
        ["-m", "tests.test_sqlite_backend"], tmp_path, timeout=200, DJANGO_SETTINGS_MODULE="newsdesk.settings"
    )
    assert result["engine"] == "newsdesk.sqlite"
    assert result["busy_handler_p90_s"] > 0.022, result  # the holder did hold the lock
    assert result["backend_p90_s"] < 0.5 * result["busy_handler_p90_s"], result


def _p90(waits: list[float]) -> float:
    return sorted(waits)[int(0.9 * (len(waits) - 1))]


def _measure() -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    path = str(settings.DATABASES["default"]["NAME"])
    plain = sqlite3.connect(path, timeout=60, isolation_level=None)  # SQLite's busy handler
    plain.execute("PRAGMA journal_mode=WAL")
    plain.execute("CREATE TABLE probe (at REAL)")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    busy_handler: list[float] = []
    backend: list[float] = []
    try:
        for _ in range(ROUNDS):
            time.sleep(random.uniform(0, 0.022))
            began = time.perf_counter()
            plain.execute("BEGIN IMMEDIATE")
            busy_handler.append(time.perf_counter() - began)
            plain.execute("INSERT INTO probe VALUES (?)", (time.time(),))
            plain.execute("COMMIT")

            time.sleep(random.uniform(0, 0.022))
            began = time.perf_counter()
            with transaction.atomic():
                backend.append(time.perf_counter() - began)
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO probe VALUES (%s)", [time.time()])
    finally:
        holder.communicate("stop\n", timeout=30)
    return {
        "engine": settings.DATABASES["default"]["ENGINE"],
        "busy_handler_p90_s": round(_p90(busy_handler), 4),
        "backend_p90_s": round(_p90(backend), 4),
        "rounds": ROUNDS,
    }


if __name__ == "__main__":
    print(json.dumps(_measure()))
