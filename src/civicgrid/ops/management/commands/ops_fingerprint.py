"""``civicgrid ops fingerprint``: the fingerprints of the configured keys (never the keys)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from civicgrid.ops.backup import key_fingerprint


class Command(BaseCommand):
    help = "Print the fingerprints of the configured encryption keys and hash key, to match them with a backup's."

    def handle(self, *args: Any, **o: Any) -> None:
        for n, key in enumerate(settings.CIVICGRID_ENCRYPTION_KEYS):
            self.stdout.write(f"encryption key {n + 1}{' (encrypts)' if n == 0 else ''}: {key_fingerprint(key)}")
        self.stdout.write(f"hash key: {key_fingerprint(str(settings.CIVICGRID_HASH_KEY))}")
