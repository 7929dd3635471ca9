"""Count failed sign-ins (Django sends ``user_login_failed`` with the attempted credentials)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver


@receiver(user_login_failed)
def _count_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from civicgrid.org.services import login_failure_record

    username = credentials.get("username")
    if username:
        login_failure_record(username=username)
