"""The authentication backend: Django's model backend plus the permissions roles bring. Repeated
failed sign-ins are throttled per address and account (``signin.py``); an account is never locked,
so nobody can end another person's sessions by typing wrong passwords."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class RoleModelBackend(ModelBackend):
    """Django's model backend that adds the permissions that the user's active memberships bring
    (see ``role_model_permissions``)."""

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
