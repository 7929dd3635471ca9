"""What every page's template needs: the signed-in person's navigation and the site settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from civicgrid.web.selectors import navigation


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "nav": navigation(user),
        "demo": bool(getattr(settings, "CIVICGRID_DEMO", False)),
        "map_tiles": getattr(settings, "CIVICGRID_MAP_TILE_URL", ""),
        "map_attribution": getattr(settings, "CIVICGRID_MAP_TILE_ATTRIBUTION", ""),
    }
