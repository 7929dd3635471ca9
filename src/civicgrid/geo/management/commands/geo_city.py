from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.geo.services import GeoImportError, city_create


class Command(CivicCommand):
    help = "Create the city (市), the top of the region chain, before importing its districts."
    expected_errors = (*CivicCommand.expected_errors, GeoImportError)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True, help="e.g. 440300")
        parser.add_argument("--name", required=True, help="e.g. 深圳市")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        city = city_create(code=o["code"], name=o["name"], actor=self.actor())
        self.stdout.write(f"created city {city.name} ({city.code})")
