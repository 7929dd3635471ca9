"""Sign in and out (our own pages, not the admin's), and the site root that sends each person to
the page of their role."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.module_loading import import_string

from civicgrid.web.selectors import home_url


def home(request: HttpRequest) -> HttpResponse:
    """``/``: residents and visitors to the report page, staff to the page of their main role."""
    return redirect(home_url(request.user))


class SignInView(auth_views.LoginView):
    template_name = "web/signin.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        hints = getattr(settings, "CIVICGRID_SIGNIN_HINTS", "")
        if hints:  # the demo's logins: a dotted path in the settings, so that no page imports the demo
            ctx["demo_logins"] = list(import_string(hints)())
        return ctx


class SignOutView(auth_views.LogoutView):
    next_page = "/"
