from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.geo.selectors import point_locate


class Command(CivicCommand):
    help = "Which grid covers a point (lon lat), with its region chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lon", type=float)
        parser.add_argument("lat", type=float)
        parser.add_argument("--crs", choices=("wgs84", "gcj02"), default="wgs84")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        loc = point_locate(o["lon"], o["lat"], crs=o["crs"])
        self.stdout.write(f"method: {loc.method}")
        for level in ("grid", "community", "street", "district", "city"):
            region = getattr(loc, level)
            if region is not None:
                self.stdout.write(f"{level:10} {region.code:16} {region.name}")
        if loc.boundary_version is not None:
            self.stdout.write(f"boundary version v{loc.boundary_version}")
        if loc.method == "nearest_community" and loc.distance_m:
            self.stdout.write(f"distance {loc.distance_m:.0f} m")
