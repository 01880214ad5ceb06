"""E-mail as a channel: IMAP in (a scheduled fetch), SMTP out, behind portal.channels.base.ChannelAdapter."""

from __future__ import annotations

from datetime import timedelta
from typing import BinaryIO

from flask import Flask
from flask_babel import gettext as _

from portal.channels.base import (
    AUDIO_TYPES,
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    VIDEO_TYPES,
    ChannelAdapter,
    ChannelError,
    FetchedMedia,
    MediaKind,
    Remedy,
)
from portal.channels.email import client, failures, fetch, inbound, notes, outbound, render, views
from portal.channels.email.parse import attachment_bytes
from portal.jobs import schedule
from portal.models import Channel, Conversation, Message
from portal.services import webhook_events

# A reply is one e-mail; far longer bodies belong in an attachment.
MAX_TEXT_LENGTH = 100_000
FETCH_JOB = "portal.channels.email.jobs.fetch_mail"
FETCH_EVERY_SECONDS = 30
# Mail servers commonly refuse messages over 25 MB, and base64 makes a file a third larger:
# 18 MB per attachment keeps a reply with one file under that ceiling.
MAX_ATTACHMENT_BYTES = 18 * 1024 * 1024
MEDIA_KINDS = tuple(
    MediaKind(name, types, MAX_ATTACHMENT_BYTES)
    for name, types in (("image", IMAGE_TYPES), ("audio", AUDIO_TYPES), ("video", VIDEO_TYPES), ("document", DOCUMENT_TYPES))
)


class EmailChannel(ChannelAdapter):
    channel = Channel.email
    max_text_length = MAX_TEXT_LENGTH
    media_kinds = MEDIA_KINDS

    def init_app(self, app: Flask) -> None:
        webhook_events.register_processor(fetch.PROVIDER, inbound.process_event)
        webhook_events.register_readable_errors(*notes.ALL)
        schedule.register(schedule.Scheduled(FETCH_JOB, FETCH_EVERY_SECONDS))
        app.register_blueprint(views.bp)
        app.jinja_env.globals["email_view"] = render.view
        app.jinja_env.globals["email_remote_images"] = render.has_remote_images

    def reply_refusal(self, conversation: Conversation) -> str | None:
        # E-mail has no 24-hour window: a reply may go out whenever there is an address.
        if outbound.recipient_for_conversation(conversation) is None:
            return _("This contact has no e-mail address: add one on the contact's page to reply.")
        return None

    def send_timeout(self) -> timedelta:
        return timedelta(seconds=client.TIMEOUT_SECONDS * 3)

    def send_text(self, message: Message) -> str:
        return outbound.send(message)

    def send_template(self, message: Message) -> str:
        raise ChannelError(None, "e-mail has no templates", retryable=False)

    def upload_media(self, message: Message, file: BinaryIO, size: int) -> str:
        # A mail carries its attachment itself (outbound.send reads the stored file): nothing goes
        # anywhere before the send, and the file's own digest names it.
        return f"file:{message.media_sha256}"

    def send_media(self, message: Message) -> str:
        return outbound.send(message)

    def mark_read(self, message: Message) -> None:
        """E-mail has no read receipts worth sending (the folder is only read)."""

    def fetch_media(self, message: Message) -> FetchedMedia:
        part = (message.payload_json or {}).get("email_part") or {}
        path = fetch.media_root() / part.get("file", "")
        if not part or not path.is_file():
            raise ChannelError(None, "the mail's stored copy is missing", retryable=False)
        found = attachment_bytes(path.read_bytes(), int(part["index"]))
        if found is None:
            raise ChannelError(None, "the attachment is not in the mail", retryable=False)
        data, mime_type = found
        return FetchedMedia(data=data, mime_type=message.media_mime_type or mime_type)

    def describe_failure(self, code: int | None, title: str | None) -> str | None:
        return failures.describe(code, title)

    def failure_remedy(self, code: int | None) -> Remedy:
        return failures.remedy(code)
