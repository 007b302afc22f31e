"""`newsdesk --help` lists newsdesk's own commands, one line each, spelled as the README
spells them; Django's commands still run but are not listed. Run as a reader runs it:
the installed `newsdesk` command in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

from newsdesk.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def newsdesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "newsdesk.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "newsdesk", *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"], ["help"]])
def test_help_lists_newsdesks_own_commands_one_line_each(tmp_path, args):
    done = newsdesk(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  ([a-z][a-z-]*)\b", done.stdout, flags=re.MULTILINE)
    assert listed == list(COMMANDS)
    for django_only in ("startproject", "squashmigrations", "makemessages", "runserver", "export_opml"):
        assert django_only not in done.stdout
    assert "newsdesk help --django" in done.stdout


def test_the_list_is_every_newsdesk_command_spelled_as_the_readme_spells_it():
    ours = {name.replace("_", "-") for name, app in get_commands().items() if str(app).startswith("newsdesk")}
    assert set(COMMANDS) == ours
    readme = (ROOT / "README.md").read_text()
    for name in COMMANDS:
        assert f"newsdesk {name}" in readme, f"the README does not mention `newsdesk {name}`"
    assert "export_opml" not in readme and "import_opml" not in readme


def test_commands_run_by_their_hyphenated_names_and_say_so(tmp_path):
    done = newsdesk(tmp_path, "export-opml", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: newsdesk export-opml")
    assert newsdesk(tmp_path, "help", "import-opml").stdout.startswith("usage: newsdesk import-opml")
    wrong = newsdesk(tmp_path, "import-opm")
    assert wrong.returncode == 1 and "Did you mean import-opml?" in wrong.stderr


def test_djangos_commands_still_run_and_are_listed_on_request(tmp_path):
    assert "no issues" in newsdesk(tmp_path, "check").stdout
    full = newsdesk(tmp_path, "help", "--django").stdout
    assert "squashmigrations" in full and "createsuperuser" in full
