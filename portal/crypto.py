"""Secrets kept encrypted at rest (an inbox's access token; any other secret the portal must read
back): Fernet from `cryptography` (AES-128-CBC with an HMAC-SHA256, a timestamped token).

The key is ENCRYPTION_KEY: one Fernet key, or several separated by commas to rotate (the first
encrypts, any of them decrypts; `rotate` re-encrypts a value with the first). Production refuses
to start without it (portal.config); in development it is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class DecryptionError(ValueError):
    """A stored secret cannot be read with the configured key (a changed or lost ENCRYPTION_KEY)."""


def derived_key(secret: str) -> str:
    """A Fernet key derived from another secret: the development default, never production's."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"atende-encryption:{secret}".encode()).digest()).decode()


def check_key(value: str) -> str | None:
    """Why ENCRYPTION_KEY cannot be used, or None when every key in it is a valid Fernet key."""
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        return "ENCRYPTION_KEY is empty"
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, binascii.Error):
            return (
                "ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), e.g. from "
                '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
            )
    return None


def _fernet(key_setting: str | None = None) -> MultiFernet:
    value = key_setting or current_app.config["ENCRYPTION_KEY"]
    return MultiFernet([Fernet(k.strip()) for k in value.split(",") if k.strip()])


def encrypt(plaintext: str, *, key: str | None = None) -> str:
    return _fernet(key).encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, key: str | None = None) -> str:
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("the stored secret does not decrypt with ENCRYPTION_KEY") from None


def rotate(token: str, *, key: str | None = None) -> str:
    """The same secret encrypted with the first key of ENCRYPTION_KEY."""
    try:
        return _fernet(key).rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("the stored secret does not decrypt with ENCRYPTION_KEY") from None
