"""The error pages people see in the site's own layout and language (the 403, 404 and 500 pages are
the templates ``403.html``, ``404.html`` and ``500.html``, used by Django's default handlers; the API
under /api/ answers its own JSON errors). The CSRF failure needs a view of its own: Django's renders
its template without the request, so the page would lose the menu and the signed-in person."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token (settings.CSRF_FAILURE_VIEW): say why in words and how
    to go on, in the site's layout."""
    return render(request, "403_csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}, status=403)
