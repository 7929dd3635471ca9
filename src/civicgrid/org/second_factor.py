"""The second factor at sign-in (双因素认证): a time-based one-time code (TOTP, RFC 6238) from an
authenticator app, through django-otp.

- Any staff member may enrol (``/account/second-factor/``); once enrolled, every sign-in asks for the
  code after the password, whatever the role.
- It is **required** for the people who can reach personal data in full: anyone who may reveal a
  sensitive value (any ``<app>.reveal_<model>`` permission, or a role a case type lets reveal its
  parties' values: ``privacy.services.revealing_roles``), export personal data
  (``org.export_personal``), or is a superuser — when ``CIVICGRID_SECOND_FACTOR_REQUIRED`` is on
  (the default in production; off in development and tests, where tests turn it on).
- Enforcement is one middleware, after django-otp's: a signed-in person who must give a code and has
  not (``request.user.is_verified()`` false) reaches only the code page, the enrolment page and
  sign-out; every other page redirects there (the API answers 403). The admin's sign-in is covered
  the same way, and sign-in throttling is unchanged: a wrong code counts as a failed sign-in of that
  account from that address (``signin.signin_failed``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

EXPORT_PERMISSION = "org.export_personal"
NO_FACTOR_KEY = "civicgrid_no_second_factor"


def has_confirmed_device(user: Any) -> bool:
    from django_otp import user_has_device

    return bool(getattr(user, "is_authenticated", False) and user_has_device(user, confirmed=True))


def can_reach_personal_data(user: Any) -> bool:
    """Whether ``user`` may reveal or export personal data (and so needs the second factor)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.is_superuser:
        return True
    if any(perm.split(".", 1)[-1].startswith("reveal_") or perm == EXPORT_PERMISSION
           for perm in user.get_all_permissions()):
        return True
    from civicgrid.org.models import Membership
    from civicgrid.privacy.services import revealing_roles

    roles = revealing_roles()  # roles a case type lets reveal a party's values (the engine's rule)
    return bool(roles) and Membership.objects.filter(user=user, is_active=True, role__in=roles).exists()


def second_factor_required(user: Any) -> bool:
    """The second factor is required of ``user`` (the setting is on and they can reach personal data)."""
    return bool(getattr(settings, "CIVICGRID_SECOND_FACTOR_REQUIRED", False)) and can_reach_personal_data(user)


def second_factor_missing(user: Any) -> bool:
    """``user`` is signed in but must still give a code (enrolled, or required to be) on this session."""
    if not getattr(user, "is_authenticated", False):
        return False
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return False
    return has_confirmed_device(user) or second_factor_required(user)


def _open_paths() -> tuple[str, ...]:
    return (reverse("web:signin_code"), reverse("web:second_factor"), reverse("web:signout"),
            settings.STATIC_URL or "/static/", "/i18n/", "/healthz", "/favicon.ico")


class SecondFactorMiddleware:
    """Sends a signed-in person who still owes a code to the code page (enrolled) or the enrolment
    page (required, not yet enrolled). Placed after ``django_otp.middleware.OTPMiddleware``."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False) or request.path.startswith(_open_paths()):
            return self.get_response(request)
        # A session that found neither an authenticator nor the requirement skips the look-ups on later
        # requests (a permission granted meanwhile counts from the next sign-in; until then the reveal
        # itself still refuses an unverified session: privacy.services.can_reveal).
        session = getattr(request, "session", None)
        if session is not None and session.get(NO_FACTOR_KEY) == user.pk:
            return self.get_response(request)
        verified = getattr(user, "is_verified", None)
        if verified is not None and verified():
            return self.get_response(request)
        device = has_confirmed_device(user)
        if not device and not second_factor_required(user):
            if session is not None:
                session[NO_FACTOR_KEY] = user.pk
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Confirm your second factor (one-time code) on the site first."},
                                status=403)
        name = "web:signin_code" if device else "web:second_factor"
        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
