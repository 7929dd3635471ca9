"""Sign-in with lockout (登录锁定): after repeated failures an account is locked for a while."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils import timezone


def is_locked(user: Any) -> bool:
    until = getattr(user, "locked_until", None)
    return bool(until and until > timezone.now())


class LockoutModelBackend(ModelBackend):
    """Django's model backend that refuses a locked account even with the right password, and
    adds the permissions that the user's active memberships bring (see ``role_model_permissions``)."""

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        perms = set(super().get_group_permissions(user_obj, obj))
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return perms
        cache = getattr(user_obj, "_civicgrid_role_perms", None)
        if cache is None:
            from civicgrid.org.models import Membership
            from civicgrid.org.permissions import role_model_permissions

            cache = set()
            for role, level in Membership.objects.filter(user=user_obj, is_active=True).values_list(
                    "role", "region__level"):
                cache |= role_model_permissions(role, level)
            user_obj._civicgrid_role_perms = cache
        return perms | cache

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not is_locked(user)

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and (user.failed_logins or user.locked_until):
            from civicgrid.org.services import login_success_record

            login_success_record(user=user)
        return user
