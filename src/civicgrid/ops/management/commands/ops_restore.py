"""``civicgrid ops restore DIR``: a backup into an empty database and media root, then checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.ops.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = ("Restore a backup made by `civicgrid ops backup` into an empty database (the configured one, or "
            "--database-url) and the media root (or --media-root), then check every table's row count, every "
            "file's hash, and that the configured encryption keys decrypt the stored phone numbers.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", help="the backup's directory")
        parser.add_argument("--database-url", default=None, help="restore into this (empty) database instead")
        parser.add_argument("--media-root", default=None, help="restore the stored files here instead")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            report = backup_restore(Path(o["src"]), database_url=o["database_url"],
                                    media=Path(o["media_root"]) if o["media_root"] else None)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report.summary())
