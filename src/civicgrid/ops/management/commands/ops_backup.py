"""``civicgrid ops backup DIR``: the database and the stored files, into a new directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = ("Back up the database (pg_dump of one snapshot, or SQLite's online backup) and the stored files "
            "(photos) into a new directory, with a manifest of row counts and file hashes. The encryption keys "
            "are not included: keep them in the secret store (docs/operations.md, 'Backup and restore').")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", help="a new (or empty) directory")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            manifest = backup_create(Path(o["dest"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"backed up {manifest.summary()} to {o['dest']}")
        self.stdout.write(f"it needs the encryption key with fingerprint {manifest.data['keys']['encryption'][0]} "
                          "to be read: keep that key, apart from the backup, as long as the backup")
