"""``civicgrid db grant ROLE``: give the app's database role rows to read and write, nothing more
(docs/deployment.md, "Two database roles"). Run it as the migrating role after each migrate."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.dbroles import app_role_grant


class Command(BaseCommand):
    help = "Grant the app's PostgreSQL role SELECT/INSERT/UPDATE/DELETE (reads and inserts only on the audit " \
           "trail and timelines); run as the migrating role after each migrate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role the app connects as (DATABASE_URL's user)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            statements = app_role_grant(options["role"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for sql in statements:
            self.stdout.write(sql + ";")
