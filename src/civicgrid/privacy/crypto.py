"""Encryption at rest and keyed hashing (加密存储与密钥哈希).

Keys come from settings (``CIVICGRID_ENCRYPTION_KEYS``: Fernet keys, newest first). The first key
encrypts; every key decrypts, so rotation is: put a new key first, run ``civicgrid privacy rotate``,
then drop the old key. The keyed hash (HMAC-SHA256 with ``CIVICGRID_HASH_KEY``) lets exact-match
search find a phone or identity number without ever decrypting a column.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "gAAAA"  # every Fernet token starts with the version byte 0x80 → "gAAAA"


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"CIVICGRID_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CIVICGRID_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("value cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (the payload is unchanged)."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("value cannot be decrypted with the configured keys") from exc


def normalise(value: str) -> str:
    """What counts as the same value for exact search: no spaces or dashes, upper-case X."""
    return "".join(value.split()).replace("-", "").upper()


def keyed_hash(value: str) -> str:
    key = (settings.CIVICGRID_HASH_KEY or "").encode("utf-8")
    return hmac.new(key, normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
