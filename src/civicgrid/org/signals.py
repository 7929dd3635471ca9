"""Forget remembered API tokens when a token or a user is saved or deleted (failed sign-ins are
counted in ``signin.py``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.org.models import ApiToken, User


@receiver([post_save, post_delete], sender=ApiToken)
@receiver([post_save, post_delete], sender=User)
def _forget_tokens(sender: Any, **kwargs: Any) -> None:
    from civicgrid.org.services import tokens_forget

    tokens_forget()
