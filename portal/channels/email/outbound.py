"""Replies as e-mails: threading headers, the subject kept, an HTML part with a text alternative,
attachments and the inbox's signature (docs/architecture.md, "E-mail").

The reply answers the conversation's latest mail from the customer: In-Reply-To names it,
References carries its chain, the subject is "Re: <its subject>" with the conversation's `[#id]`
reference (the inbound fallback when a client drops the headers), and it goes to its Reply-To or
From. The sent mail's headers are kept in payload_json["email"], and its external_id is the key of
its Message-ID, so the customer's answer threads back and a bounce finds it.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from flask_babel import gettext as _
from sqlalchemy import select

from portal.channels.base import ChannelError
from portal.channels.email import client, config
from portal.channels.email.inbound import SUBJECT_REFERENCE, external_key
from portal.extensions import db
from portal.models import Conversation, Direction, Message
from portal.services import media_files

REPLY_PREFIX = re.compile(r"^\s*((re|res|fw|fwd|enc|aw|sv)\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 20
NO_ADDRESS = 1  # error_code: the contact has no e-mail address


def latest_mail(conversation_id: int) -> Message | None:
    """The conversation's latest message from the customer that was an e-mail."""
    return db.session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.inbound,
            Message.message_type == "email",
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    ).first()


def recipient_for_conversation(conversation: Conversation) -> str | None:
    """Where a reply goes: the latest mail's Reply-To or From, else the contact's address."""
    answered = latest_mail(conversation.id)
    headers = (answered.payload_json or {}).get("email", {}) if answered is not None else {}
    return headers.get("reply_to") or headers.get("from") or conversation.contact.email


def subject_for(conversation_id: int, original: str) -> str:
    base = REPLY_PREFIX.sub("", original or "").strip() or _("Your message")
    if not SUBJECT_REFERENCE.search(base):
        base = f"{base} [#{conversation_id}]"
    return f"Re: {base}"


def build(message: Message, settings: config.EmailSettings) -> tuple[EmailMessage, str]:
    """The mail for a queued reply and its recipient; the message's payload records its headers."""
    to = recipient_for_conversation(message.conversation)
    if not to:
        raise ChannelError(NO_ADDRESS, "the contact has no e-mail address", retryable=False)
    answered = latest_mail(message.conversation_id)
    headers = (answered.payload_json or {}).get("email", {}) if answered is not None else {}
    domain = settings.from_address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    mail = EmailMessage()
    mail["From"] = formataddr((settings.from_name, settings.from_address)) if settings.from_name else settings.from_address
    mail["To"] = to
    mail["Subject"] = subject_for(message.conversation_id, headers.get("subject", ""))
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id
    references: list[str] = []
    if headers.get("message_id"):
        mail["In-Reply-To"] = headers["message_id"]
        references = [*headers.get("references", []), headers["message_id"]][-MAX_REFERENCES:]
        mail["References"] = " ".join(references)
    text = message.body or ""
    if settings.signature:
        text = f"{text}\n\n-- \n{settings.signature}"
    mail.set_content(text)
    mail.add_alternative(_html(message.body or "", settings.signature), subtype="html")
    if message.media_id:
        path = media_files.stored_path(message)
        if path is None:
            raise ChannelError(None, "the attachment's file is missing", retryable=False)
        maintype, _slash, subtype = (message.media_mime_type or "application/octet-stream").partition("/")
        mail.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype or "octet-stream",
            filename=message.media_filename or path.name,
        )
    message.payload_json = {
        "email": {
            "message_id": message_id,
            "subject": str(mail["Subject"]),
            "to": [to],
            "in_reply_to": [headers["message_id"]] if headers.get("message_id") else [],
            "references": references,
        }
    }
    return mail, to


def _html(body: str, signature: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p.strip())
    if signature:
        paragraphs += f'<div class="signature">-- <br>{html.escape(signature).replace(chr(10), "<br>")}</div>'
    return f"<!DOCTYPE html><html><body>{paragraphs}</body></html>"


def send(message: Message) -> str:
    settings = config.load(message.conversation.inbox)
    mail, to = build(message, settings)
    client.smtp_send(settings.smtp, mail, settings.from_address, [to])
    return external_key(message.conversation.inbox_id, mail["Message-ID"])
