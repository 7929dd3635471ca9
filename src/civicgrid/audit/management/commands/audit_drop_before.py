from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.audit.retention import AuditRetentionRefused, audit_drop_before


class Command(BaseCommand):
    help = ("Drop the audit trail's monthly partitions before YYYY-MM, as the owner (migrating) role. Refuses "
            "anything younger than 6 months (网络安全法 art. 21), and refuses while the table is not partitioned.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("month", help="YYYY-MM: the partitions of the months before it are dropped")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            dropped = audit_drop_before(options["month"], dry_run=options["dry_run"])
        except AuditRetentionRefused as exc:
            raise CommandError(str(exc)) from None
        verb = "would drop" if options["dry_run"] else "dropped"
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(dropped)} partitions: {', '.join(dropped) or '-'}"))
