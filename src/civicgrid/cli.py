"""The ``civicgrid`` console script.

``civicgrid <app> <verb> [args]`` runs the management command ``<app>_<verb>`` (for example
``civicgrid geo import FILE`` → ``geo_import``); ``civicgrid <app>`` lists that app's verbs;
``civicgrid help <app> <verb>`` shows a verb's help; any other word is passed to Django as it is
(``civicgrid migrate``, ``civicgrid runserver``). Configuration and database errors are one line,
not a traceback.

After ``make demo`` the demo's settings are in ``var/demo.env`` (``$CIVICGRID_DATA_DIR/demo.env``):
when that file is there, ``civicgrid`` reads it, so the README's commands in another terminal act on
the demo city. A variable already set in the environment wins over the file; the file is named on
standard error each time, so nobody mistakes the demo's database for another.

``civicgrid migrate`` (and ``createcachetable``, ``db grant``) connect with
``CIVICGRID_MIGRATE_DATABASE_URL`` when it is set: the role that owns the schema, while the app
runs as ``DATABASE_URL``'s role, which owns nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _translate(args: list[str], commands: set[str]) -> list[str] | str:
    """Map the two-word form onto Django's command names; a lone app word lists its verbs."""
    if len(args) >= 3 and args[0] == "help" and f"{args[1]}_{args[2]}" in commands:
        return ["help", f"{args[1]}_{args[2]}", *args[3:]]
    if len(args) >= 2 and not args[0].startswith("-") and f"{args[0]}_{args[1]}".replace("-", "_") in commands:
        return [f"{args[0]}_{args[1]}".replace("-", "_"), *args[2:]]  # "audit drop-before" → audit_drop_before
    if len(args) == 1 and args[0] not in commands:
        verbs = sorted(c.split("_", 1)[1] for c in commands if c.startswith(f"{args[0]}_"))
        if verbs:
            return f"civicgrid {args[0]} <verb>: {', '.join(verbs)} (civicgrid help {args[0]} <verb> for details)"
    return args or ["help"]


def demo_env_file() -> Path:
    data_dir = os.environ.get("CIVICGRID_DATA_DIR") or str(Path.cwd() / "var")
    return Path(data_dir) / "demo.env"


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments are skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def load_demo_env() -> Path | None:
    """Take the demo's settings from ``demo.env`` when it exists (environment variables win)."""
    from django.conf import settings

    path = demo_env_file()
    if settings.configured or not path.is_file():  # inside a running Django (tests): nothing to do
        return None
    for name, value in read_env_file(path).items():
        if not os.environ.get(name):
            os.environ[name] = value
    return path


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    demo = load_demo_env()
    migrate_url = os.environ.get("CIVICGRID_MIGRATE_DATABASE_URL")
    if migrate_url and args[:1] in (["migrate"], ["createcachetable"], ["db"]):
        # Schema changes run as the migrating role that owns the tables; the app's DATABASE_URL
        # role owns nothing (docs/deployment.md, "Two database roles").
        os.environ["DATABASE_URL"] = migrate_url
    if demo is not None:
        print(f"civicgrid: using the demo's settings from {demo}", file=sys.stderr)
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    try:
        import django

        django.setup()
        from django.core.management import execute_from_command_line, get_commands

        translated = _translate(args, set(get_commands()))
        if isinstance(translated, str):
            print(translated)
            return
        execute_from_command_line(["civicgrid", *translated])
    except ImproperlyConfigured as exc:
        sys.exit(f"civicgrid: configuration error: {exc}")
    except OperationalError as exc:
        sys.exit(f"civicgrid: database error: {exc} (check DATABASE_URL, and run `civicgrid migrate`)")


if __name__ == "__main__":
    main()
