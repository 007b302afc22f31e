"""Loaded with `-p tests.isolated_env` (see pyproject.toml) before Django reads settings:
the test run keeps its data (secret key, static root) out of the working tree.

With REDIS_URL set (the PostgreSQL + Redis run of .ci/run), the tests use database 15 of
that Redis server rather than the one the URL names, because they empty it between
tests (tests/conftest.py); subprocesses inherit the same URL. With DATABASE_URL set,
pytest-django runs on a test_ database of its own on that server."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

_data_dir = tempfile.mkdtemp(prefix="newsdesk-tests-")
os.makedirs(os.path.join(_data_dir, "static"), exist_ok=True)
os.environ["NEWSDESK_DATA_DIR"] = _data_dir

TEST_REDIS_DB = 15
if (_redis := os.environ.get("REDIS_URL")) and urlsplit(_redis).scheme in {"redis", "rediss"}:
    os.environ["REDIS_URL"] = urlunsplit(urlsplit(_redis)._replace(path=f"/{TEST_REDIS_DB}"))
