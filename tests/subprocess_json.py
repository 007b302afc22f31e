"""Run Python in a subprocess on a data dir (and database) of its own: read the JSON object
it prints last, for measurements that need a real database file and process, which the
in-memory test database inside a test transaction is not; or prepare a site's database
for tests that then run the site in other processes (gunicorn, a bare WSGI call)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run_python(args: list[str], env: dict, *, timeout: float) -> str:
    """What `python ARGS` printed, run from the repository in `env`; it must succeed."""
    out = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def run_json(args: list[str], data_dir: Path, *, timeout: float, **environ: str) -> dict:
    """`python ARGS` with NEWSDESK_DATA_DIR=`data_dir` on SQLite, plus `environ`."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_LOG_LEVEL": "WARNING", **environ}
    env.pop("DATABASE_URL", None)
    return json.loads(run_python(args, env, timeout=timeout).strip().splitlines()[-1])


def prepare_site(env: dict, then: str = "", *, static: bool = False) -> str:
    """Migrate the database `env` names (and collect the static files, which production
    pages link through their manifest), run the Python statements `then`, and return
    what they printed."""
    setup = "import django; django.setup(); from django.core.management import call_command;"
    setup += "call_command('migrate', verbosity=0);"
    if static:
        setup += "call_command('collectstatic', interactive=False, verbosity=0);"
    return run_python(["-c", setup + then], env, timeout=240)


def shared_score(task: str, corpus: Path, predictions: Path) -> dict:
    """What `../shared/eval/score.py TASK CORPUS PREDICTIONS` prints last, as a dict."""
    from bench import SHARED

    out = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "score.py"), task, str(corpus), str(predictions)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
