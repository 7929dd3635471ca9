from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.privacy.services import encrypted_columns_rotate


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted column under the first key of CIVICGRID_ENCRYPTION_KEYS "
            "(run after putting a new key first; then the old key can be removed). "
            "Safe to run again: values already under the first key are skipped. "
            "See docs/operations.md, 'Rotating the encryption key'.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500,
                            help="rows per transaction (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        result = encrypted_columns_rotate(
            batch_size=options["batch_size"],
            progress=lambda label, n: self.stdout.write(f"{label}: {n} rows re-encrypted"))
        total = sum(result.values())
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows re-encrypted under the newest key"))
