"""WhatsApp media. Inbound: fetched through the Graph API (GET /{media-id}, then the short-lived
URL with the bearer token) and checked against its sha256; portal.services.media_files keeps it.
Outbound: the kinds, MIME types and sizes the Cloud API takes (MEDIA_KINDS), which
portal.services.attachments checks before anything is stored or uploaded.

Meta writes the sha256 in base64 in webhooks and in hex on the media endpoint, so the check
compares digests, not strings (docs/architecture.md, "WhatsApp")."""

from __future__ import annotations

import base64
import hashlib

from flask_babel import gettext as _

from portal.channels.base import (
    AUDIO_TYPES,
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    VIDEO_TYPES,
    ChannelError,
    FetchedMedia,
    MediaKind,
)
from portal.channels.whatsapp.client import GraphClient
from portal.models import Message

MB = 1024 * 1024
# Meta's "Supported media types" (Cloud API media reference): audio/ogg only with the Opus codec,
# video only H.264 with AAC (not checked: the upload answers for the codecs inside the container).
MEDIA_KINDS = (
    MediaKind("image", IMAGE_TYPES, 5 * MB),
    MediaKind("audio", AUDIO_TYPES, 16 * MB),
    MediaKind("video", VIDEO_TYPES, 16 * MB),
    MediaKind("document", DOCUMENT_TYPES, 100 * MB),
)


class MediaChecksumError(ChannelError):
    """The bytes do not match WhatsApp's sha256 (a truncated or corrupted transfer): retried."""

    def __init__(self) -> None:
        super().__init__(None, _("The downloaded media does not match its checksum."), retryable=True)


def fetch(client: GraphClient, message: Message) -> FetchedMedia:
    """The message's media bytes, checked against WhatsApp's sha256, and their MIME type."""
    info = client.media_info(message.media_id)
    data = client.download_media(info["url"])
    expected = message.media_sha256 or str(info.get("sha256") or "")
    if expected and sha256_digest(expected) != hashlib.sha256(data).digest():
        raise MediaChecksumError()
    return FetchedMedia(data, message.media_mime_type or str(info.get("mime_type") or "application/octet-stream"))


def sha256_digest(text: str) -> bytes | None:
    """The 32-byte digest WhatsApp wrote as hex or base64; None when it is neither."""
    text = text.strip()
    try:
        digest = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error is one
        return None
    return digest if len(digest) == 32 else None
