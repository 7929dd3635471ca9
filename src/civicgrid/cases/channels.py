"""Delivery channels of the notification outbox (通知渠道): in-app messages, SMS and e-mail.

A channel is anything with a ``name`` and ``send(notification, recipients)`` that raises when the
message could not be delivered (the outbox then retries it later). Channels live in a registry
keyed by :attr:`Notification.channel`; tests and deployments replace one with
:func:`channel_register` or, for a while, :func:`channel_override`.

SMS and e-mail go through a *backend* chosen by a setting:

``CIVICGRID_SMS_BACKEND``
    ``console`` (default): write the message to the log (``civicgrid.cases.channels``) with the
    phone number masked — nothing leaves the machine. Or the dotted path of a class whose
    instances have ``send(phone, text)`` (an SMS gateway adapter).
``CIVICGRID_EMAIL_BACKEND``
    ``console`` (default): to the log, address masked. ``django``: Django's e-mail framework
    (``EMAIL_BACKEND``, ``EMAIL_HOST``…, ``DEFAULT_FROM_EMAIL``). Or the dotted path of a class
    with ``send(address, subject, body)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from civicgrid.cases.models import InboxMessage, Notification
from civicgrid.privacy.masking import mask

log = logging.getLogger("civicgrid.cases.channels")


@dataclass(frozen=True)
class Recipient:
    """Somebody to deliver to: a user, or an address (phone, e-mail) of somebody without an account."""

    user: Any = None
    address: str = ""


class Channel(Protocol):
    name: str

    def send(self, notification: Notification, recipients: Sequence[Recipient]) -> int:
        """Deliver to every recipient the channel can reach; return how many. Raise on failure."""
        ...


class InAppChannel:
    """Messages in the platform's inbox (站内消息): one :class:`InboxMessage` per user."""

    name = "inapp"

    def send(self, notification: Notification, recipients: Sequence[Recipient]) -> int:
        rows = [InboxMessage(user=r.user, case_id=notification.case_id, subject=notification.subject,
                             body=notification.body) for r in recipients if r.user is not None]
        InboxMessage.objects.bulk_create(rows)
        return len(rows)


# --- SMS -------------------------------------------------------------------------------------


class ConsoleSmsBackend:
    """Development SMS: logged with the number masked, never sent."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", mask(phone, "phone"), text)


def _backend(setting: str, builtins: dict[str, Any]) -> Any:
    value = getattr(settings, setting, "console") or "console"
    factory = builtins.get(value)
    if factory is None:
        try:
            factory = import_string(value)
        except ImportError as exc:
            raise ValueError(f"{setting}: cannot import {value!r} ({exc})") from None
    return factory()


class SmsChannel:
    """Text messages (短信) to the users' phones or to a reporter's number."""

    name = "sms"

    def send(self, notification: Notification, recipients: Sequence[Recipient]) -> int:
        backend = _backend("CIVICGRID_SMS_BACKEND", {"console": ConsoleSmsBackend})
        text = notification.subject if not notification.body else f"{notification.subject}\n{notification.body}"
        sent = 0
        for r in recipients:
            phone = r.address or (getattr(r.user, "phone", "") if r.user is not None else "")
            if phone:
                backend.send(phone, text)
                sent += 1
        return sent


# --- e-mail ----------------------------------------------------------------------------------


class ConsoleEmailBackend:
    """Development e-mail: logged with the address masked, never sent."""

    def send(self, address: str, subject: str, body: str) -> None:
        log.info("e-mail to %s: %s", mask(address), subject)


class DjangoEmailBackend:
    """Through Django's e-mail framework (EMAIL_BACKEND, EMAIL_HOST…, DEFAULT_FROM_EMAIL)."""

    def send(self, address: str, subject: str, body: str) -> None:
        from django.core.mail import send_mail

        send_mail(subject, body or subject, None, [address], fail_silently=False)


class EmailChannel:
    """E-mail to the users' addresses or to a given address."""

    name = "email"

    def send(self, notification: Notification, recipients: Sequence[Recipient]) -> int:
        backend = _backend("CIVICGRID_EMAIL_BACKEND", {"console": ConsoleEmailBackend, "django": DjangoEmailBackend})
        sent = 0
        for r in recipients:
            address = r.address or (getattr(r.user, "email", "") if r.user is not None else "")
            if address:
                backend.send(address, notification.subject, notification.body)
                sent += 1
        return sent


# --- registry --------------------------------------------------------------------------------

_registry: dict[str, Channel] = {}


def channel_register(channel: Channel, *, name: str | None = None) -> Channel:
    """Use ``channel`` for notifications of its name (replacing the one registered before)."""
    _registry[name or channel.name] = channel
    return channel


def channel_get(name: str) -> Channel:
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"no notification channel {name!r} is registered") from None


def channels_reset() -> None:
    """Back to the built-in channels."""
    _registry.clear()
    for channel in (InAppChannel(), SmsChannel(), EmailChannel()):
        channel_register(channel)


@contextmanager
def channel_override(name: str, channel: Channel) -> Iterator[Channel]:
    """Use ``channel`` for ``name`` inside the block (tests: a failing channel)."""
    previous = _registry.get(name)
    _registry[name] = channel
    try:
        yield channel
    finally:
        if previous is None:
            _registry.pop(name, None)
        else:
            _registry[name] = previous


channels_reset()
