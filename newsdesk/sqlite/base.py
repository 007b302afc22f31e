"""Django's SQLite backend, with a prompt wait for the write lock.

SQLite's own busy handler sleeps on a schedule that grows to 100 ms between tries, so a
comment posted while a worker commits every few milliseconds slept 130 ms and more,
though no transaction of the worker held the lock for 10 ms (tests/test_write_lock.py:
longest wait 129 ms with the busy handler, 6 ms trying every millisecond). A transaction
here therefore starts by trying BEGIN every millisecond up to the same timeout.
Statements outside a transaction keep SQLite's busy handler.
"""

from __future__ import annotations

import sqlite3
import time

from django.db.backends.sqlite3 import base

from newsdesk import turns

RETRY_EVERY_S = 0.001


def begin(connection: sqlite3.Connection, statement: str = "BEGIN IMMEDIATE") -> None:
    """Start a transaction on a plain sqlite3 connection, trying every millisecond until
    the connection's busy timeout has passed."""
    timeout_ms = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        if _began(connection, statement, deadline):
            return
        # Another process writes: a web process serves others while this one waits.
        with turns.aside():
            while True:
                time.sleep(RETRY_EVERY_S)
                if _began(connection, statement, deadline):
                    return
    finally:
        connection.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")


def _began(connection: sqlite3.Connection, statement: str, deadline: float) -> bool:
    """True once `statement` ran; False while another connection holds the lock."""
    try:
        connection.execute(statement)
        return True
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
            raise
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        with self.wrap_database_errors:
            begin(self.connection, f"BEGIN {self.transaction_mode}" if self.transaction_mode else "BEGIN")
