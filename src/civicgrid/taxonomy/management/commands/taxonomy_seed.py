"""``civicgrid taxonomy seed``: add the default catalogue (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.core.context import request_context
from civicgrid.taxonomy.services import catalogue_seed


class Command(BaseCommand):
    help = ("Seed the default catalogue: 数字城管 部件/事件 classes with their time limits and dispatch "
            "lines, and the five 12345 request types. Safe to run again: only what is missing is added.")

    def handle(self, *args: Any, **options: Any) -> None:
        with request_context():
            report = catalogue_seed(actor=None)
        self.stdout.write(f"{'':<16} {'created':>8} {'existing':>9}")
        for what in sorted(set(report.created) | set(report.existing)):
            created, existing = report.created.get(what, 0), report.existing.get(what, 0)
            self.stdout.write(f"{what:<16} {created:>8} {existing:>9}")
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write(self.style.SUCCESS(f"done: {sum(report.created.values())} records created"))
