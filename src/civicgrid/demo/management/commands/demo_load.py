"""``civicgrid demo load``: build the demo city 云川市 (code 990100) and print its logins."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from civicgrid.core.commands import CivicCommand
from civicgrid.demo.selectors import demo_city_get, demo_logins
from civicgrid.demo.services import DEMO_PASSWORD, DemoLoadError, demo_city_load
from civicgrid.geo.models import LEVELS, Level
from civicgrid.geo.services import GeoImportError


def _width(text: str) -> int:
    """Columns a string takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = (cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True))
        return "  ".join(cells).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


class Command(CivicCommand):
    help = _("Load the demo city 云川市 (fictional, codes 99xxxx): districts, streets, communities, a few "
             "hundred grids, departments, the category catalogue and one login per role, all through the "
             "production services. Running it again on a loaded database does nothing.")
    expected_errors = (*CivicCommand.expected_errors, GeoImportError, DemoLoadError, ImportError)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help=_("random seed of the map (default 2026)"))
        parser.add_argument("--districts", type=int, default=3, help=_("number of districts (default 3)"))
        parser.add_argument("--streets", type=int, default=3, help=_("streets per district (default 3)"))
        parser.add_argument("--communities", type=int, default=3,
                            help=_("communities per street (default 3)"))
        parser.add_argument("--grid-m2", type=float, default=250_000,
                            help=_("target area of a grid in m² (default 250000)"))
        parser.add_argument("--events", type=int, default=3000,
                            help=_("number of generated events, in every state of the loop (default 3000; 0: none)"))
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        def say(message: str) -> None:
            self.stdout.write(f"· {message}")

        counts = demo_city_load(seed=o["seed"], districts=o["districts"], streets_per_district=o["streets"],
                                communities_per_street=o["communities"], grid_target_m2=o["grid_m2"],
                                progress=say, actor=self.actor())
        city = demo_city_get()
        assert city is not None
        if o["events"] > 0:
            from civicgrid.demo.events import demo_events_load

            demo_events_load(city=city, count=o["events"], seed=o["seed"], say=say)
            from civicgrid.demo.warning import demo_warning_load

            demo_warning_load(city=city, seed=o["seed"], say=say)
        from civicgrid.demo.disputes import demo_disputes_load

        demo_disputes_load(city=city, say=say)
        from civicgrid.demo.petitions import demo_petitions_load

        demo_petitions_load(city=city, say=say)
        from civicgrid.demo.assessment import demo_assessment_load

        demo_assessment_load(city=city, say=say)
        self.stdout.write("")
        rows = [(row.username, row.role, row.where) for row in demo_logins(city)]
        for line in _table((_("username"), _("role"), _("where")), rows):
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(_("Password of every demo login: %(password)s") % {"password": DEMO_PASSWORD})
        self.stdout.write(_("(an account that existed before the demo keeps its own password)"))
        self.stdout.write("")
        regions = ", ".join(f"{Level(level).label} {counts[level]}" for level in LEVELS)
        self.stdout.write(_("%(city)s (%(code)s): %(regions)s; %(departments)d departments; %(users)d users")
                          % {"city": city.name, "code": city.code, "regions": regions,
                             "departments": counts["departments"], "users": counts["users"]})
        if counts["created"]:
            self.stdout.write(self.style.SUCCESS(_("Demo city loaded.")))
