"""The `newsdesk` command: a thin shell over Django management commands.

`newsdesk import-opml FILE` runs the `import_opml` command; every Django command
(`migrate`, `createsuperuser`, ...) is available too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["newsdesk", *args])


if __name__ == "__main__":
    main()
