"""Encryption at rest and keyed hashing (加密存储与密钥哈希).

Keys come from settings (``CIVICGRID_ENCRYPTION_KEYS``: Fernet keys, newest first). The first key
encrypts; every key decrypts, so rotation is: put a new key first, run ``privacy_rotate``, then drop
the old key (docs/operations.md, "Rotating the encryption key").

The keyed hash (HMAC-SHA256 with ``CIVICGRID_HASH_KEY``) lets exact-match
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
        raise ImproperlyConfigured(
            f"CIVICGRID_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}") from None


@lru_cache(maxsize=8)
def _primary(key: str) -> Fernet:
    return Fernet(key.encode())


def _keys() -> tuple[str, ...]:
    keys = tuple(settings.CIVICGRID_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("CIVICGRID_ENCRYPTION_KEYS is empty")
    return keys


def fernet() -> MultiFernet:
    """All configured keys: the first encrypts, any decrypts (cached per key list, so overrides work)."""
    return _fernet(_keys())


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("value cannot be decrypted with the configured keys") from exc


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted under the newest key (rotation can skip it)."""
    keys = _keys()
    _fernet(keys)  # reports a malformed key list as ImproperlyConfigured
    try:
        _primary(keys[0]).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (the payload is unchanged)."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("value cannot be decrypted with the configured keys") from exc


def normalise(value: str, kind: str = "generic") -> str:
    """What counts as the same value for exact search: no spaces or dashes, upper-case (the X of an
    identity number); a phone also loses its +86 / 0086 country prefix."""
    v = "".join(value.split()).replace("-", "").upper()
    if kind == "phone":
        for prefix in ("+86", "0086"):
            if v.startswith(prefix) and len(v) > len(prefix) + 7:
                v = v[len(prefix):]
                break
    return v


def keyed_hash(value: str, kind: str = "generic") -> str:
    """HMAC-SHA256 of the normalised value under ``CIVICGRID_HASH_KEY`` (hex, 64 characters).

    Changing the hash key makes every stored hash useless: it is not rotated like the Fernet keys.
    """
    key = (settings.CIVICGRID_HASH_KEY or "").encode("utf-8")
    if not key:
        raise ImproperlyConfigured("CIVICGRID_HASH_KEY is empty")
    return hmac.new(key, normalise(value, kind).encode("utf-8"), hashlib.sha256).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
