from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.privacy.retention import retention_kinds, retention_purge


class Command(BaseCommand):
    help = ("Clear the personal data whose retention period has ended (docs/privacy-impact-assessment.md): "
            "each registered kind's values are emptied in the records themselves, one audit row "
            "privacy.purge per batch (ids and field names, never a value). Safe to run again.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what is due, change nothing")
        parser.add_argument("--kind", action="append", default=None, help="only this kind (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        known = {k.name: k for k in retention_kinds()}
        for name in options["kind"] or ():
            if name not in known:
                raise CommandError(f"--kind: unknown kind {name!r}; known: {', '.join(known)}")
        result = retention_purge(dry_run=options["dry_run"], kinds=options["kind"])
        verb = "due" if options["dry_run"] else "cleared"
        for name, count in result.items():
            self.stdout.write(f"{name} (after {known[name].period_days} days): {count} records {verb}")
        self.stdout.write(self.style.SUCCESS(f"done: {sum(result.values())} records {verb}"))
