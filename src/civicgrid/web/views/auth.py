"""Sign in and out (our own pages, not the admin's), and the site root that sends each person to
the page of their role."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

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


def _next(request: HttpRequest) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return home_url(request.user)


@login_required
def signin_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the one-time code from the person's authenticator. A wrong code
    counts as a failed sign-in of the account from this address (the same throttle as passwords)."""
    from django_otp import login as otp_login

    from civicgrid.org.second_factor import has_confirmed_device
    from civicgrid.org.services import totp_verify
    from civicgrid.org.signin import signin_failed, signin_wait, throttled_response

    user = request.user
    if not has_confirmed_device(user):
        return redirect(f"{reverse('web:second_factor')}?{urlencode({'next': _next(request)})}")
    error = ""
    if request.method == "POST":
        wait = signin_wait(request, user.get_username())
        if wait:
            return throttled_response(request, wait)
        device = totp_verify(user=user, token=request.POST.get("token", ""))  # type: ignore[arg-type]
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        signin_failed(request, user.get_username())
        error = _("That code is not right (or was used already). Type the six digits your app shows now.")
    return render(request, "web/signin_code.html", {"error": error, "next": _next(request)},
                  status=400 if error else 200)


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    """Enrolment of an authenticator app: the secret and its otpauth:// address to type or paste into
    the app, then a code from it to confirm. Shows the state once enrolled."""
    from django_otp import login as otp_login

    from civicgrid.org.second_factor import has_confirmed_device, second_factor_required
    from civicgrid.org.services import totp_enrol_confirm, totp_enrol_start

    user = request.user
    if has_confirmed_device(user):
        verified = user.is_verified()  # type: ignore[union-attr]
        return render(request, "web/second_factor.html", {"enrolled": True, "verified": verified,
                                                          "next": _next(request)})
    error = ""
    if request.method == "POST":
        device = totp_enrol_confirm(user=user, token=request.POST.get("token", ""))  # type: ignore[arg-type]
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        error = _("That code is not right. Check the time on your phone and type the six digits shown now.")
    device = totp_enrol_start(user=user)  # type: ignore[arg-type]
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "web/second_factor.html", {
        "enrolled": False, "secret": secret, "uri": device.config_url, "error": error,
        "required": second_factor_required(user), "next": _next(request)}, status=400 if error else 200)
