"""Fetched mails turned into contacts, conversations and messages: the "email" processor of
portal.services.webhook_events, one stored mail per event and one transaction per event.

- Idempotent: a mail's message is unique on `external_key(inbox, Message-ID)` (the UID when it
  has none), so processing an event again, or the same mail fetched twice, adds nothing.
- Contacts are matched by the sender's address (portal.services.contacts.find_by_email); a new
  sender becomes a contact with that address and no phone.
- Threading: the conversation holding a message the mail answers (In-Reply-To, then References,
  newest first), else one named by a `[#id]` reference in the subject, of the same contact and
  inbox; a closed one is reopened when the contact has no other open one there. Else the
  contact's open conversation in the inbox, or a new one. A mail answering a satisfaction survey
  (its rating, or the comment after it) goes to the survey's closed conversation and reopens
  nothing (portal.services.csat.take_answer).
- The mail's text is the message body (plain text preferred); its sanitized HTML, headers and
  attachment list are kept in payload_json["email"]. Each attachment is a message of its own
  (type image or document, media_id `part:<n>`), downloaded like WhatsApp media.
- An automatic reply is stored as `is_automatic` (no rule fires for it) in the conversation it
  answers, and never opens one, so it starts no SLA. A delivery status notification (bounce)
  marks the outbound message it names failed with the reason, and adds no message.
- Anything odd about the mail is noted on the event; only a missing stored copy fails it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.channels.email import failures, notes
from portal.channels.email.fetch import max_bytes, raw_path
from portal.channels.email.parse import Attachment, ParsedMail, address_name, parse, reference_ids
from portal.extensions import db
from portal.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    WebhookEvent,
    utcnow,
)
from portal.services import contacts, conversations, csat, events, media_files, message_status, webhook_events

SUBJECT_REFERENCE = re.compile(r"\[#(\d{1,18})\]")


def external_key(inbox_id: int, message_id: str) -> str:
    """messages.external_id of an e-mail: bounded, and per inbox (one mail sent to two of our
    addresses is a message in each)."""
    return f"email:{inbox_id}:{hashlib.sha256(message_id.encode()).hexdigest()[:40]}"


def process_event(event: WebhookEvent) -> None:
    payload = event.payload_json or {}
    inbox = db.session.get(Inbox, payload.get("inbox_id"))
    if inbox is None:
        raise webhook_events.UnprocessableEvent(webhook_events.stored_text(notes.NO_INBOX, inbox=payload.get("inbox_id")))
    path = raw_path(event)
    if not path.is_file():
        raise webhook_events.UnprocessableEvent(webhook_events.stored_text(notes.MISSING_COPY, file=payload.get("file")))
    mail = parse(path.read_bytes())
    remarks = _remarks(mail, payload)
    message_id = mail.message_id or f"<uid-{payload['uidvalidity']}-{payload['uid']}@{inbox.id}>"
    key = external_key(inbox.id, message_id)
    if _by_external_id(key) is not None:
        remarks.append(webhook_events.stored_text(notes.ALREADY_STORED, message_id=message_id))
    elif mail.bounce is not None:
        remarks.append(_apply_bounce(inbox, mail))
    else:
        remarks.extend(filter(None, [receive(inbox, mail, key, message_id, payload)]))
    event.error = webhook_events.clean_error("; ".join(remarks)) or None


def _remarks(mail: ParsedMail, payload: dict[str, Any]) -> list[str]:
    stored = webhook_events.stored_text
    remarks = []
    if payload.get("size", 0) > payload.get("kept", 0):
        remarks.append(stored(notes.TRUNCATED, size=payload["size"], limit=max(payload["kept"], max_bytes())))
    simple = {
        "broken_mime": notes.BROKEN_MIME,
        "several_senders": notes.SEVERAL_SENDERS,
        "long_body": notes.LONG_BODY,
        "many_attachments": notes.MANY_ATTACHMENTS,
    }
    for problem in dict.fromkeys(mail.problems):
        if problem in simple:
            remarks.append(stored(simple[problem]))
        elif problem == "many_recipients":
            remarks.append(stored(notes.MANY_RECIPIENTS, count=mail.recipient_count, kept=len(mail.recipients)))
        elif problem == "misleading_name":
            remarks.append(stored(notes.MISLEADING_NAME, name=mail.misleading_name, address=mail.sender))
    return remarks


def receive(inbox: Inbox, mail: ParsedMail, key: str, message_id: str, payload: dict[str, Any]) -> str | None:
    """Store the mail in its conversation; a note when it is shown nowhere."""
    if mail.sender is None:
        return webhook_events.stored_text(notes.NO_SENDER)
    own = (inbox.settings or {}).get("email", {}).get("from_address", "").lower()
    if mail.sender == own:
        return webhook_events.stored_text(notes.OWN_MAIL)
    at = min(mail.date, utcnow()) if mail.date is not None else utcnow()
    contact = contacts.find_by_email(mail.sender)
    message = Message(
        direction=Direction.inbound,
        status=MessageStatus.delivered,
        status_at=at,
        sent_at=at,
        external_id=key,
        message_type="email",
        body=mail.text,
        is_automatic=mail.auto_reply,
        payload_json={"email": _email_payload(mail, message_id, payload)},
    )
    # A rating (or its comment) answering a closed conversation's survey stays in that
    # conversation without reopening it (portal.services.csat); threading would reopen it.
    if not mail.auto_reply and csat.take_answer(message, contact, inbox, at):
        conversation = message.conversation
    else:
        conversation = _thread(inbox, mail, contact) if contact is not None else None
        if mail.auto_reply and conversation is None:
            return webhook_events.stored_text(notes.AUTO_REPLY_ALONE, subject=mail.subject[:120])
        if contact is None:
            contact = _new_contact(mail)
        if conversation is None:
            conversation, _ = conversations.open_or_reuse(contact, inbox=inbox, at=at)
        message.conversation = conversation
    db.session.add(message)
    if not mail.auto_reply:
        conversation.last_inbound_at = _latest(conversation.last_inbound_at, at)
    conversation.last_message_at = _latest(conversation.last_message_at, at)
    db.session.flush()
    events.emit("message.created", message=message)
    for attachment in mail.attachments:
        _attachment_message(conversation, message, attachment, at)
    return None


def _new_contact(mail: ParsedMail) -> Contact:
    contact = Contact(name=mail.sender_name or address_name(mail.sender), email=mail.sender, phone=None)
    db.session.add(contact)
    db.session.flush()
    events.emit("contact.created", contact=contact)
    return contact


def _thread(inbox: Inbox, mail: ParsedMail, contact: Contact) -> Conversation | None:
    """The contact's conversation in this inbox that the mail answers, open (reopened if need
    be); None when it answers none that can take it."""
    found = None
    keys = [external_key(inbox.id, ref) for ref in reference_ids(mail)]
    if keys:
        rows = db.session.execute(
            select(Message.external_id, Message.conversation_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.external_id.in_(keys), Conversation.inbox_id == inbox.id, Conversation.contact_id == contact.id)
        ).all()
        by_key = {row.external_id: row.conversation_id for row in rows}
        found = next((by_key[k] for k in keys if k in by_key), None)
    if found is None:
        reference = SUBJECT_REFERENCE.search(mail.subject)
        if reference:
            candidate = db.session.get(Conversation, int(reference.group(1)))
            if candidate is not None and candidate.inbox_id == inbox.id and candidate.contact_id == contact.id:
                found = candidate.id
    if found is None:
        return conversations.open_conversation_for(contact, inbox.id) if mail.auto_reply else None
    conversation = db.session.get(Conversation, found)
    if conversation.is_open:
        return conversation
    if mail.auto_reply or conversations.open_conversation_for(contact, inbox.id) is not None:
        return conversation if mail.auto_reply else None
    conversations.change_status(conversation, ConversationStatus.new, by=None)
    return conversation


def _email_payload(mail: ParsedMail, message_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "subject": mail.subject,
        "from": mail.sender,
        "from_name": mail.sender_name,
        "reply_to": mail.reply_to,
        "to": mail.recipients,
        "recipient_count": mail.recipient_count,
        "in_reply_to": mail.in_reply_to,
        "references": mail.references,
        "html": mail.html,
        "text_part": mail.text_part,
        "uid": payload.get("uid"),
        "uidvalidity": payload.get("uidvalidity"),
        "file": payload.get("file"),
        "truncated": payload.get("size", 0) > payload.get("kept", 0),
        "inline": {a.content_id: a.index for a in mail.attachments if a.content_id},
    }


def _attachment_message(conversation: Conversation, mail_message: Message, attachment: Attachment, at: datetime) -> None:
    message = Message(
        conversation=conversation,
        direction=Direction.inbound,
        status=MessageStatus.delivered,
        status_at=at,
        sent_at=at,
        external_id=f"{mail_message.external_id}:{attachment.index}",
        message_type="image" if attachment.mime_type.startswith("image/") else "document",
        body="",
        is_automatic=mail_message.is_automatic,
        media_id=f"part:{attachment.index}",
        media_mime_type=attachment.mime_type,
        media_filename=attachment.filename,
        reply_to_external_id=mail_message.external_id,
        payload_json={"email_part": {"file": mail_message.payload_json["email"]["file"], "index": attachment.index,
                                     "size": attachment.size, "content_id": attachment.content_id,
                                     "inline": attachment.inline}},
    )
    db.session.add(message)
    db.session.flush()
    media_files.enqueue_download(message)


def _apply_bounce(inbox: Inbox, mail: ParsedMail) -> str:
    bounce = mail.bounce
    original = bounce.original_message_id or (reference_ids(mail) or [None])[0]
    if original is None:
        return webhook_events.stored_text(notes.BOUNCE_UNKNOWN, message_id="?")
    if bounce.action == "delayed":
        return webhook_events.stored_text(notes.BOUNCE_DELAYED, message_id=original)
    message = _by_external_id(external_key(inbox.id, original))
    if message is None or message.direction != Direction.outbound:
        return webhook_events.stored_text(notes.BOUNCE_UNKNOWN, message_id=original)
    reason = " ".join(filter(None, [bounce.status, bounce.diagnostic])) or "bounced"
    message_status.change(
        message,
        MessageStatus.failed,
        only_from=[MessageStatus.queued, MessageStatus.sent, MessageStatus.delivered],
        status_at=utcnow(),
        error_code=failures.bounce_code(bounce.status, bounce.diagnostic),
        error_title=(failures.BOUNCE_PREFIX + reason)[:500],
    )
    return webhook_events.stored_text(notes.BOUNCE_APPLIED, message_id=original, reason=reason[:300])


def _by_external_id(key: str) -> Message | None:
    return db.session.scalars(select(Message).where(Message.external_id == key)).first()


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
