from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.privacy.crypto import generate_key


class Command(BaseCommand):
    help = "Print a new random encryption key for CIVICGRID_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(generate_key())
