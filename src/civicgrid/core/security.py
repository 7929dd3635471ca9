"""The Content-Security-Policy header (Django 5.2 has none built in).

Scripts run only from our own static files: no inline script, no ``eval``, no event-handler
attributes, so markup planted in a name cannot run even if it escaped escaping somewhere. Styles may
be inline (htmx and Leaflet set them), images come from us, ``data:``/``blob:`` URLs and the map's
tile host. ``CIVICGRID_CSP`` replaces the whole policy; an empty value in development turns it off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def tile_source(url: str) -> str:
    """The CSP source of a Leaflet tile URL template: ``https://{s}.tile.example.org/{z}/{x}/{y}.png``
    → ``https://*.tile.example.org``."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.netloc.replace("{s}.", "*.")
    if not parts.scheme or not host or "{" in host:
        return ""
    return f"{parts.scheme}://{host}"


def default_policy() -> str:
    tiles = tile_source(getattr(settings, "CIVICGRID_MAP_TILE_URL", "") or "")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob:{' ' + tiles if tiles else ''}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "CIVICGRID_CSP", None)
        if self.policy is None:
            self.policy = default_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
