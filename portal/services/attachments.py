"""Outbound attachments (docs/architecture.md, "Attachments").

An agent's or the API's file is checked against the kinds, MIME types and sizes the
conversation's channel sends (ChannelAdapter.media_kinds) from its content: the first bytes are
sniffed, and the file name's extension and the browser's MIME type are only claims that must
agree with it. It is copied a block at a time into MEDIA_ROOT under its sha256
(attachments/<2 hex>/<sha256><ext>, so the same file sent twice is kept once), never read whole
into memory, and queued as an outbound message like a text reply. The outbound job uploads it
through the channel (ChannelAdapter.upload_media), keeps the channel's media id on the row and
commits it before sending, so a retry never uploads again once the channel answered.

Nothing is stored when a check fails: the copy goes to a temporary file that is removed, and
the message row exists only once the view commits. Callers commit; a caller whose commit fails
calls `discard` so no file is left that no row names.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import channels
from portal.channels import MediaKind
from portal.extensions import db
from portal.models import Agent, Conversation, Direction, Message, QuickReply
from portal.services import media_files, outbound

FOLDER = "attachments"
INCOMING = ".incoming"
BLOCK = 64 * 1024
# filetype's matchers read at most this many leading bytes.
HEAD = 8192
# WhatsApp's longest media caption; other channels would say theirs through media_kinds later.
MAX_CAPTION_LENGTH = 1024
MAX_FILENAME_LENGTH = 255
# Other names browsers and systems give the MIME types the channels list.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "audio/opus": "audio/ogg",
    "application/ogg": "audio/ogg",
    "video/3gp": "video/3gpp",
    "text/csv": "text/plain",
}
# Extensions Python's mimetypes may not know on every system.
EXTENSIONS = {".m4a": "audio/mp4", ".amr": "audio/amr", ".aac": "audio/aac", ".opus": "audio/ogg", ".3gp": "video/3gpp"}
# A claim that says nothing: browsers send it for any type they do not know.
NO_CLAIM = {"", "application/octet-stream"}


class AttachmentError(ValueError):
    """A readable reason an attachment was refused; `status` is the HTTP answer that fits it."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class StoredFile:
    """A checked file kept under MEDIA_ROOT."""

    relative: str
    sha256: str
    size: int
    mime_type: str
    kind: MediaKind
    filename: str


def kinds_for(conversation: Conversation) -> tuple[MediaKind, ...]:
    adapter = channels.adapter_for(conversation)
    return adapter.media_kinds if adapter is not None else ()


def largest_upload(conversation: Conversation) -> int:
    """The most bytes an attachment to this conversation may have (0: it takes none)."""
    return max((kind.max_bytes for kind in kinds_for(conversation)), default=0)


def human_size(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def extensions_of(kinds: tuple[MediaKind, ...]) -> dict[str, str]:
    """Each file name extension of the kinds' MIME types, and the type it stands for."""
    types = {mime for kind in kinds for mime in kind.mime_types}
    found = {ext: mime for ext, mime in EXTENSIONS.items() if mime in types}
    for mime in sorted(types):
        for ext in mimetypes.guess_all_extensions(mime):
            found.setdefault(ext, mime)
    return found


def normalized(mime_type: str | None) -> str:
    base = (mime_type or "").split(";")[0].strip().lower()
    return ALIASES.get(base, base)


def check_filename(name: str | None) -> str:
    """The name as given, or AttachmentError when it could name a path or hide characters."""
    name = (name or "").strip()
    if not name or name in {".", ".."}:
        raise AttachmentError(_("The file needs a name."))
    if "/" in name or "\\" in name:
        raise AttachmentError(_("A file name may not contain / or \\."))
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name):
        raise AttachmentError(_("A file name may not contain control characters."))
    if len(name) > MAX_FILENAME_LENGTH:
        raise AttachmentError(_("A file name holds at most %(max)d characters.", max=MAX_FILENAME_LENGTH))
    return name


def check_conversation(conversation: Conversation) -> tuple[MediaKind, ...]:
    """The kinds the conversation takes now, or AttachmentError saying why it takes none."""
    refusal = outbound.window_refusal(conversation)
    if refusal:
        raise AttachmentError(refusal)
    kinds = kinds_for(conversation)
    if not kinds:
        raise AttachmentError(_("Attachments cannot be sent on this conversation's channel."))
    return kinds


def sniff(head: bytes) -> str | None:
    """The MIME type the leading bytes show, or None when they show none."""
    guessed = filetype.guess_mime(head)
    if guessed:
        return normalized(guessed)
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A block may end inside a multi-byte character; anything earlier is not text.
        if len(head) < HEAD or error.start < len(head) - 3:
            return None
    return "text/plain"


def _claims(filename: str, declared: str | None) -> Iterable[tuple[str, str]]:
    extension = os.path.splitext(filename)[1].lower()
    if extension:
        by_extension = EXTENSIONS.get(extension) or mimetypes.guess_type("f" + extension)[0]
        yield "extension", normalized(by_extension) if by_extension else ""
    declared = normalized(declared)
    if declared not in NO_CLAIM:
        yield "type", declared


def _kind(mime_type: str, kinds: tuple[MediaKind, ...]) -> MediaKind | None:
    return next((kind for kind in kinds if mime_type in kind.mime_types), None)


def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < HEAD:
        chunk = stream.read(HEAD - len(head))
        if not chunk:
            break
        head += chunk
    return head


def store(
    stream: BinaryIO,
    filename: str | None,
    declared_mime: str | None,
    kinds: tuple[MediaKind, ...],
    *,
    voice: bool = False,
    caption: str = "",
) -> StoredFile:
    """Check the file read from `stream` (and the caption it goes with) and keep it;
    AttachmentError, with nothing kept, when it is refused."""
    filename = check_filename(filename)
    head = _read_head(stream)
    if not head:
        raise AttachmentError(_("The file is empty."))
    mime_type = sniff(head)
    kind = _kind(mime_type, kinds) if mime_type else None
    if kind is None:
        raise AttachmentError(
            _("This kind of file cannot be sent on WhatsApp: send images (JPEG, PNG), audio (AAC, AMR, MP3, M4A, OGG), video (MP4, 3GP) or documents (PDF, Word, Excel, PowerPoint, text).")
        )
    for claim, claimed in _claims(filename, declared_mime):
        if claimed != mime_type:
            if claim == "extension":
                raise AttachmentError(_("The file name's extension does not match its content (%(type)s).", type=mime_type))
            raise AttachmentError(_("The file's type (%(claimed)s) does not match its content (%(type)s).", claimed=claimed, type=mime_type))
    if mime_type == "audio/ogg" and b"OpusHead" not in head:
        raise AttachmentError(_("OGG audio must use the Opus codec."))
    if voice and mime_type != "audio/ogg":
        raise AttachmentError(_("A voice note must be OGG audio with the Opus codec."))
    check_caption(caption, kind)
    root = Path(current_app.config["MEDIA_ROOT"])
    incoming = root / FOLDER / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    partial = incoming / f"{secrets.token_hex(16)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > kind.max_bytes:
                    raise AttachmentError(
                        _("%(kind)s files may have at most %(size)s.", kind=kind_label(kind.name), size=human_size(kind.max_bytes)),
                        status=413,
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(BLOCK)
        sha256 = digest.hexdigest()
        relative = f"{FOLDER}/{sha256[:2]}/{sha256}{media_files.extension(mime_type)}"
        final = root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        # The same bytes under the same name: an earlier copy is as good as this one.
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return StoredFile(relative, sha256, size, mime_type, kind, filename)


def kind_label(name: str) -> str:
    return {
        "image": _("Image"),
        "audio": _("Audio"),
        "video": _("Video"),
        "document": _("Document"),
    }.get(name, name)


def check_caption(caption: str, kind: MediaKind) -> str:
    caption = (caption or "").replace("\r\n", "\n").strip()
    if "\x00" in caption:
        raise AttachmentError(_("A caption may not contain NUL characters."))
    if caption and kind.name == "audio":
        raise AttachmentError(_("Audio cannot carry a caption: send the text as its own message."))
    if len(caption) > MAX_CAPTION_LENGTH:
        raise AttachmentError(_("A caption holds at most %(max)d characters.", max=MAX_CAPTION_LENGTH))
    return caption


def queue(
    conversation: Conversation,
    stored: StoredFile,
    caption: str,
    *,
    by: Agent | None,
    voice: bool = False,
    reply_to: Message | None = None,
    after: Message | None = None,
) -> Message:
    """Store the attachment's message as `queued`; the outbound job uploads and sends it once
    the transaction commits (once `after` was accepted, when it is given)."""
    caption = check_caption(caption, stored.kind)
    message = Message(
        conversation=conversation,
        direction=Direction.outbound,
        body=caption,
        message_type=stored.kind.name,
        media_url=stored.relative,
        media_mime_type=stored.mime_type,
        media_sha256=stored.sha256,
        media_filename=stored.filename,
        payload_json={"voice": True} if voice else None,
        sender_agent_id=by.id if by is not None else None,
        reply_to_external_id=reply_to.external_id if reply_to is not None else None,
    )
    outbound.queue_message(message, enqueue=after is None)
    if after is not None:
        outbound.link_in_order([after, message])
    return message


def send_attachment(
    conversation: Conversation,
    stream: BinaryIO,
    filename: str | None,
    declared_mime: str | None,
    caption: str,
    *,
    by: Agent | None,
    voice: bool = False,
    reply_to: Message | None = None,
) -> Message:
    """Check, keep and queue one attachment (the composer's and the API's path)."""
    kinds = check_conversation(conversation)
    stored = store(stream, filename, declared_mime, kinds, voice=voice, caption=caption)
    return queue(conversation, stored, caption, by=by, voice=voice, reply_to=reply_to)


def channel_kinds() -> tuple[MediaKind, ...]:
    """Every kind a channel of this installation sends: what a file kept for later (a quick
    reply's) may be. The conversation it goes to checks it again when it is sent (`reuse`)."""
    return tuple(kind for adapter in channels.registered().values() for kind in adapter.media_kinds)


def reuse(conversation: Conversation, relative: str, mime_type: str, sha256: str, size: int, filename: str) -> StoredFile:
    """A file kept earlier (a quick reply's), as an attachment to this conversation; AttachmentError
    when the conversation takes no attachment now or its channel does not take this one."""
    kinds = check_conversation(conversation)
    kind = _kind(mime_type, kinds)
    if kind is None:
        raise AttachmentError(_("This conversation's channel cannot send %(name)s.", name=filename))
    if size > kind.max_bytes:
        raise AttachmentError(
            _("%(kind)s files may have at most %(size)s.", kind=kind_label(kind.name), size=human_size(kind.max_bytes)),
            status=413,
        )
    if not (Path(current_app.config["MEDIA_ROOT"]) / relative).is_file():
        raise AttachmentError(_("The file %(name)s is no longer kept: attach it to the quick reply again.", name=filename))
    return StoredFile(relative, sha256, size, mime_type, kind, filename)


def send_with_text(
    conversation: Conversation, stored: StoredFile, text: str, *, by: Agent, reply_to: Message | None = None
) -> list[Message]:
    """Queue a kept file with `text`: as its caption when the text fits one, else the text first
    as a message of its own and the file after it, sent in that order (`outbound.link_in_order`)."""
    text = (text or "").replace("\r\n", "\n").strip()
    fits = not (text and stored.kind.name == "audio") and len(text) <= MAX_CAPTION_LENGTH
    if fits:
        return [queue(conversation, stored, text, by=by, reply_to=reply_to)]
    first = outbound.queue_reply(conversation, text, by=by, reply_to=reply_to)
    return [first, queue(conversation, stored, "", by=by, after=first)]


def discard(relative: str) -> None:
    """Remove a kept file no stored row names: after a failed commit, once the caller rolled back,
    or once the quick reply that kept it let it go."""
    named = db.session.scalar(select(func.count()).select_from(Message).where(Message.media_url == relative))
    named = named or db.session.scalar(select(func.count()).select_from(QuickReply).where(QuickReply.media_url == relative))
    if not named:
        (Path(current_app.config["MEDIA_ROOT"]) / relative).unlink(missing_ok=True)
