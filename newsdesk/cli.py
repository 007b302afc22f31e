"""The `newsdesk` command: a thin shell over Django management commands.

Commands are spelled with hyphens, as the README spells them (`newsdesk import-opml
FILE` runs the `import_opml` command, and its usage line and errors say
`newsdesk import-opml`). `newsdesk`, `newsdesk --help` and `newsdesk help` list
newsdesk's own commands, one line each; Django's (`migrate`, `createsuperuser`, ...)
all still run, and `newsdesk help --django` lists them.
"""

from __future__ import annotations

import os
import sys
from difflib import get_close_matches

from django.core.management import BaseCommand, ManagementUtility, get_commands

# newsdesk's own commands in the README's order: (arguments, what it does). Kept here
# rather than read from each command's `help`, so that listing them imports no command
# module; tests/test_cli.py checks that the list and the installed commands agree.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("", "migrate, then run the web server, task workers and scheduler until Ctrl-C"),
    "add": ("URL...", "subscribe to a feed, a site's feeds or a news sitemap, or store one article"),
    "import-opml": ("FILE", "subscribe to every feed of an OPML file"),
    "export-opml": ("[-o FILE]", "write every feed as OPML"),
    "fetch": ("[--once]", "poll feeds and store articles in this process, without the task queue"),
    "reprocess": ("[--all] [--queue]", "redo AI enrichment that is missing or made by an older method"),
    "worker": ("", "run one task worker (run several for throughput)"),
    "scheduler": ("", "queue feed polls and page fetches as they fall due (one per deployment)"),
    "index": ("[--rebuild]", "bring the related-articles vector index up to date"),
    "search-index": ("check|rebuild|optimize", "look after the SQLite full-text index by hand"),
    "api-token": ("USERNAME", "issue an API token for a user (--list, --revoke PREFIX)"),
    "bench": ("...", "benchmarks and quality predictions (see the README)"),
}


def overview() -> str:
    width = max(len(f"{name} {args}".strip()) for name, (args, _) in COMMANDS.items())
    lines = [
        "newsdesk: a self-hosted news aggregator.",
        "",
        "Usage: newsdesk COMMAND [OPTIONS]   (newsdesk COMMAND --help for its options)",
        "",
        "Commands:",
        *(f"  {f'{name} {args}'.strip():<{width}}  {what}" for name, (args, what) in COMMANDS.items()),
        "",
        "Django's management commands (migrate, createsuperuser, collectstatic, ...) run too;",
        "`newsdesk help --django` lists them.",
    ]
    return "\n".join(lines)


class Utility(ManagementUtility):
    """Django's command runner with hyphenated names and newsdesk's own overview."""

    def main_help_text(self, commands_only: bool = False) -> str:
        if "--django" in self.argv:
            return super().main_help_text(commands_only)
        return "\n".join(COMMANDS) if commands_only else overview()

    def fetch_command(self, subcommand: str) -> BaseCommand:
        # The command keeps the name as typed: its usage line says `newsdesk import-opml`.
        name = subcommand.replace("-", "_")
        if name not in get_commands():
            # Django's own message would suggest `import_opml`; suggest what the README says.
            known = [*COMMANDS, *(c for c in get_commands() if c.replace("_", "-") not in COMMANDS)]
            close = get_close_matches(subcommand, known)
            sys.stderr.write(f"Unknown command: {subcommand!r}." + (f" Did you mean {close[0]}?" if close else ""))
            sys.stderr.write("\nType 'newsdesk help' for usage.\n")
            sys.exit(1)
        return super().fetch_command(name)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    Utility(["newsdesk", *args]).execute()


if __name__ == "__main__":
    main()
