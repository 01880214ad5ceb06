"""Inbound media files: fetched through the message's channel by the download job, kept under
MEDIA_ROOT, and served only through the portal's access checks (portal.media)."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from flask import current_app
from werkzeug.security import safe_join

from portal import channels
from portal.channels import ChannelError
from portal.extensions import db
from portal.models import Message
from portal.queue import OUTBOUND, backoff, enqueue_after_commit

DOWNLOAD_JOB = "portal.jobs.media.download_media"
DOWNLOAD_TRIES = 3

# Served inline; anything else (HTML, SVG, PDF...) downloads as an attachment, never rendered
# from the portal's origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
INLINE_PREFIXES = ("audio/", "video/")


def enqueue_download(message: Message) -> None:
    """Fetch the inbound message's attachment once the transaction commits."""
    enqueue_after_commit(db.session, DOWNLOAD_JOB, message.id, queue=OUTBOUND, retry=backoff(DOWNLOAD_TRIES))


def download(message: Message) -> bool:
    """Fetch the message's media once; True when a file was stored. A permanent channel error is
    kept on the message (error_code, error_title); a transient one raises so the job retries."""
    adapter = channels.adapter_for(message.conversation)
    if adapter is None or not message.media_id or stored_path(message) is not None:
        return False
    try:
        fetched = adapter.fetch_media(message)
    except ChannelError as error:
        message.error_code, message.error_title = error.code, error.title
        if error.retryable:
            raise
        return False
    relative = f"{message.conversation_id}/{message.id}{extension(fetched.mime_type)}"
    _write_atomically(Path(current_app.config["MEDIA_ROOT"]) / relative, fetched.data)
    message.media_url = relative
    message.media_mime_type = fetched.mime_type
    message.error_code = message.error_title = None
    return True


def stored_path(message: Message) -> Path | None:
    """The downloaded file, or None while it is not there."""
    if not message.media_url:
        return None
    path = safe_join(current_app.config["MEDIA_ROOT"], message.media_url)
    return Path(path) if path and os.path.isfile(path) else None


def shown_inline(mime_type: str | None) -> bool:
    base = (mime_type or "").split(";")[0].strip().lower()
    return base in INLINE_TYPES or base.startswith(INLINE_PREFIXES)


def extension(mime_type: str) -> str:
    return mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ".bin"


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader never sees half a file, and a crash leaves at most a stray temporary file.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
