"""Structured logs: every line carries the request id (the web request's ``X-Request-ID``, or the
id of the command or worker round, from :mod:`civicgrid.core.context`), and personal values that
slipped into a message — mobile and identity numbers, e-mail addresses — are masked before any
handler writes them.

``CIVICGRID_LOG_FORMAT=json`` writes one JSON object per line (``ts``, ``level``, ``logger``,
``message``, ``request_id`` and the record's extra fields such as ``route`` and ``status``);
``plain`` (default) writes the same in one readable line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from civicgrid.core.context import current_request_id
from civicgrid.privacy.masking import mask_generic, mask_id_number, mask_phone

# A mainland mobile number (optionally +86), an 18-character identity number, an e-mail address:
# each standing alone, not inside a longer run of digits (ids, hashes, timestamps).
_PHONE = re.compile(r"(?<![\w.])(?:\+86[- ]?)?1[3-9]\d{9}(?!\w)")
_ID = re.compile(r"(?<![\w.])\d{17}[\dXx](?!\w)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def redact(text: str) -> str:
    """``text`` with mobile and identity numbers and e-mail addresses masked."""
    text = _ID.sub(lambda m: mask_id_number(m.group()), text)
    text = _PHONE.sub(lambda m: mask_phone(m.group()), text)
    return _EMAIL.sub(lambda m: mask_generic(m.group()), text)


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and masks personal values in the message (arguments merged first) and in
    an exception's text. Attached to the handlers, so it sees every logger's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):  # (set once, where the record was made)
            record.request_id = current_request_id() or "-"
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as it is
            message = str(record.msg)
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "message": record.getMessage(),
               "request_id": getattr(record, "request_id", "-")}
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            # Plain values only: an object's text (Django's own records carry the request, whose text
            # holds the query string) could hold anything.
            if isinstance(value, str):
                out[key] = redact(value)
            elif isinstance(value, (int, float, bool, type(None))):
                out[key] = value
        if record.exc_text:
            out["exception"] = record.exc_text
        elif record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)
