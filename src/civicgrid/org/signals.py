"""Count failed sign-ins (Django sends ``user_login_failed`` with the attempted credentials), and
forget remembered API tokens when a token or a user is saved or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.org.models import ApiToken, User


@receiver(user_login_failed)
def _count_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from civicgrid.org.services import login_failure_record

    username = credentials.get("username")
    if username:
        login_failure_record(username=username)


@receiver([post_save, post_delete], sender=ApiToken)
@receiver([post_save, post_delete], sender=User)
def _forget_tokens(sender: Any, **kwargs: Any) -> None:
    from civicgrid.org.services import tokens_forget

    tokens_forget()
