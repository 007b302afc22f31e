"""A site's database made in a process of its own, as production settings make it, for
tests that then run the site in other processes (gunicorn, a bare WSGI call)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare_site(env: dict, then: str = "", *, static: bool = False) -> str:
    """Migrate the database `env` names (and collect the static files, which production
    pages link through their manifest), run the Python statements `then`, and return
    what they printed."""
    setup = "import django; django.setup(); from django.core.management import call_command;"
    setup += "call_command('migrate', verbosity=0);"
    if static:
        setup += "call_command('collectstatic', interactive=False, verbosity=0);"
    made = subprocess.run(
        [sys.executable, "-c", setup + then], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert made.returncode == 0, made.stderr[-3000:]
    return made.stdout
