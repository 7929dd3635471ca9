"""Delivery channels of the notification outbox (通知渠道): in-app messages, SMS and e-mail.

A channel is anything with a ``name`` and ``send(notification, recipients)`` that raises when the
message could not be delivered (the outbox then retries it later). Channels live in a registry
keyed by :attr:`Notification.channel`; tests and deployments replace one with
:func:`channel_register` or, for a while, :func:`channel_override`.

SMS and e-mail go through a *backend* chosen by a setting:

``CIVICGRID_SMS_BACKEND``
    ``console`` (default): write the message to the log (``civicgrid.notify.channels``) with the
    phone number masked — nothing leaves the machine. Or the dotted path of a class whose
    instances have ``send(phone, text)`` (an SMS gateway adapter).
``CIVICGRID_EMAIL_BACKEND``
    ``console`` (default): to the log, address masked. ``django``: Django's e-mail framework
    (``EMAIL_BACKEND``, ``EMAIL_HOST``…, ``DEFAULT_FROM_EMAIL``). Or the dotted path of a class
    with ``send(address, subject, body)``.

Delivery is *at least once*: a worker killed after the gateway accepted a message but before the
row was marked sent delivers it again when its lease ends. So every message carries a stable id,
:func:`message_id` (the notification and the person: the same on every retry); a backend whose
``send`` takes a ``message_id`` keyword gets it and should hand it to the gateway as its
idempotency key (most SMS gateways keep one per message), so a repeat is dropped there. In-app
messages need none: they are written in the transaction that marks the row sent.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from civicgrid.notify.models import InboxMessage, Notification
from civicgrid.privacy.masking import mask

log = logging.getLogger("civicgrid.notify.channels")


@dataclass(frozen=True)
class Recipient:
    """Somebody to deliver to: a user, or an address (phone, e-mail) of somebody without an account."""

    user: Any = None
    address: str = ""


def message_id(notification: Notification, recipient: Recipient) -> str:
    """The id of one message of ``notification`` to ``recipient``: the same on every attempt."""
    who = f"u{recipient.user.pk}" if recipient.user is not None else "a"
    return f"civicgrid-{notification.pk}-{who}"


_takes_id: dict[type, bool] = {}


def _send(backend: Any, *args: Any, message_id: str) -> None:
    """Call ``backend.send(*args)``, with ``message_id=`` when the backend takes it (adapters written
    before message ids existed keep working)."""
    kind = type(backend)
    if kind not in _takes_id:
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(backend.send).parameters
        except (TypeError, ValueError):
            params = {}
        _takes_id[kind] = "message_id" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    if _takes_id[kind]:
        backend.send(*args, message_id=message_id)
    else:
        backend.send(*args)


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

    def send(self, phone: str, text: str, *, message_id: str = "") -> None:
        log.info("SMS to %s: %s (%s)", mask(phone, "phone"), text, message_id)


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
                _send(backend, phone, text, message_id=message_id(notification, r))
                sent += 1
        return sent


# --- e-mail ----------------------------------------------------------------------------------


class ConsoleEmailBackend:
    """Development e-mail: logged with the address masked, never sent."""

    def send(self, address: str, subject: str, body: str, *, message_id: str = "") -> None:
        log.info("e-mail to %s: %s (%s)", mask(address), subject, message_id)


class DjangoEmailBackend:
    """Through Django's e-mail framework (EMAIL_BACKEND, EMAIL_HOST…, DEFAULT_FROM_EMAIL)."""

    def send(self, address: str, subject: str, body: str, *, message_id: str = "") -> None:
        from django.core.mail import EmailMessage

        # The Message-ID header lets a mail system (and the reader's client) drop a repeat.
        domain = (getattr(settings, "DEFAULT_FROM_EMAIL", "") or "civicgrid.invalid").rsplit("@", 1)[-1].strip("> ")
        headers = {"Message-ID": f"<{message_id}@{domain}>"} if message_id else {}
        EmailMessage(subject, body or subject, None, [address], headers=headers).send(fail_silently=False)


class EmailChannel:
    """E-mail to the users' addresses or to a given address."""

    name = "email"

    def send(self, notification: Notification, recipients: Sequence[Recipient]) -> int:
        backend = _backend("CIVICGRID_EMAIL_BACKEND", {"console": ConsoleEmailBackend, "django": DjangoEmailBackend})
        sent = 0
        for r in recipients:
            address = r.address or (getattr(r.user, "email", "") if r.user is not None else "")
            if address:
                _send(backend, address, notification.subject, notification.body,
                      message_id=message_id(notification, r))
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
