from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.privacy.services import encrypted_columns_rotate


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted column under the first key of CIVICGRID_ENCRYPTION_KEYS "
            "(run after putting a new key first; then the old key can be removed).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = encrypted_columns_rotate(
            progress=lambda label, n: self.stdout.write(f"{label}: {n} rows re-encrypted"))
        total = sum(result.values())
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows re-encrypted under the newest key"))
