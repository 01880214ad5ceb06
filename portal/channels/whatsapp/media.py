"""Inbound media: fetched through the Graph API (GET /{media-id}, then the short-lived URL with the
bearer token), checked against its sha256 and kept under MEDIA_ROOT, served only through the
portal's access checks (portal.media).

Meta writes the sha256 in base64 in webhooks and in hex on the media endpoint, so the check
compares digests, not strings (docs/architecture.md, "WhatsApp")."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import safe_join

from portal.channels.whatsapp.client import GraphClient, GraphError, graph_client
from portal.models import Message

# Served inline; anything else (HTML, SVG, PDF...) downloads as an attachment, never rendered
# from the portal's origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
INLINE_PREFIXES = ("audio/", "video/")


class MediaChecksumError(Exception):
    """The bytes do not match WhatsApp's sha256 (a truncated or corrupted transfer): retried."""


def download(message: Message, client: GraphClient | None = None) -> bool:
    """Fetch the message's media once; True when a file was stored. A permanent Graph error is kept
    on the message (error_code, error_title); a transient one, or a checksum mismatch, raises so
    the job retries."""
    if not message.media_id or stored_path(message) is not None:
        return False
    client = client or graph_client()
    try:
        info = client.media_info(message.media_id)
        data = client.download_media(info["url"])
    except GraphError as error:
        message.error_code, message.error_title = error.code, error.title
        if error.retryable:
            raise
        return False
    expected = message.media_sha256 or str(info.get("sha256") or "")
    if expected and sha256_digest(expected) != hashlib.sha256(data).digest():
        message.error_code, message.error_title = None, _("The downloaded media does not match its checksum.")
        raise MediaChecksumError(f"media of message {message.id}: sha256 mismatch")
    mime_type = message.media_mime_type or str(info.get("mime_type") or "application/octet-stream")
    relative = f"{message.conversation_id}/{message.id}{_extension(mime_type)}"
    _write_atomically(Path(current_app.config["MEDIA_ROOT"]) / relative, data)
    message.media_url = relative
    message.media_mime_type = mime_type
    message.error_code = message.error_title = None
    return True


def sha256_digest(text: str) -> bytes | None:
    """The 32-byte digest WhatsApp wrote as hex or base64; None when it is neither."""
    text = text.strip()
    try:
        digest = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error is one
        return None
    return digest if len(digest) == 32 else None


def stored_path(message: Message) -> Path | None:
    """The downloaded file, or None while it is not there."""
    if not message.media_url:
        return None
    path = safe_join(current_app.config["MEDIA_ROOT"], message.media_url)
    return Path(path) if path and os.path.isfile(path) else None


def shown_inline(mime_type: str | None) -> bool:
    base = (mime_type or "").split(";")[0].strip().lower()
    return base in INLINE_TYPES or base.startswith(INLINE_PREFIXES)


def _extension(mime_type: str) -> str:
    return mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ".bin"


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader never sees half a file, and a crash leaves at most a stray temporary file.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
