"""Run Python in a subprocess on a data dir (and SQLite database) of its own, and read the
JSON object it prints last: for measurements that need a real database file and process,
which the in-memory test database inside a test transaction is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run_json(args: list[str], data_dir: Path, *, timeout: float, **environ: str) -> dict:
    """`python ARGS` with NEWSDESK_DATA_DIR=`data_dir` on SQLite, plus `environ`."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_LOG_LEVEL": "WARNING", **environ}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


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
