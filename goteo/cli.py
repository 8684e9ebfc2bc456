"""The ``goteo`` console script: manage.py for the bundled site."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command, e.g. ``goteo process_campaigns``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goteo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["goteo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
