"""The ``civicgrid`` console script.

``civicgrid <app> <verb> [args]`` runs the management command ``<app>_<verb>`` (for example
``civicgrid geo import FILE`` → ``geo_import``); any other word is passed to Django as it is
(``civicgrid migrate``, ``civicgrid runserver``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    import django
    from django.core.management import execute_from_command_line, get_commands

    django.setup()
    if len(args) >= 2 and not args[0].startswith("-") and not args[1].startswith("-"):
        joined = f"{args[0]}_{args[1]}"
        if joined in get_commands():
            args = [joined, *args[2:]]
    if not args:
        args = ["help"]
    execute_from_command_line(["civicgrid", *args])


if __name__ == "__main__":
    main()
