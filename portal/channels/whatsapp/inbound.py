"""WhatsApp notifications turned into contacts, conversations, messages and status changes.

One stored webhook event is one unit of work: every message and status in it is applied in the
caller's transaction, so a crash leaves all of it or none (docs/architecture.md, "Durability").

- A message is stored once per WhatsApp id: a redelivered notification adds nothing.
- `payload_json` holds the object named like the message type (text, image, location, the
  contacts list...); an `unsupported` message keeps its `errors` there instead.
- Statuses only move forward (sent → delivered → read; a voice note's `played` is read), under any
  interleaving of the workers applying them (portal.services.message_status).
  `failed` is terminal, and only a message WhatsApp has not yet delivered can fail: a late
  `failed` for a delivered or read message, or a late `sent` for a failed one, is ignored.
- What cannot be applied but is no failure (a status for a message we never sent, errors
  WhatsApp reports about our number) is noted on the event, which is still processed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.channels.whatsapp import webhook
from portal.channels.whatsapp.webhook import InboundMessage, PayloadError, StatusUpdate
from portal.extensions import db
from portal.models import Direction, Message, MessageStatus, WebhookEvent, utcnow
from portal.phones import InvalidPhone, from_wa_id
from portal.queue import OUTBOUND, backoff, enqueue_after_commit
from portal.services import contacts, conversations, events, message_status, webhook_events

DOWNLOAD_JOB = "portal.jobs.media.download_media"
DOWNLOAD_TRIES = 3


def process_event(event: WebhookEvent) -> None:
    """The "whatsapp" processor of portal.services.webhook_events (registered by the adapter)."""
    try:
        changes = webhook.parse(event.payload_json)
    except PayloadError as exc:
        raise webhook_events.UnprocessableEvent(str(exc)) from None
    notes: list[str] = []
    for change in changes:
        for message in change.messages:
            receive(message)
        for status in change.statuses:
            notes.extend(filter(None, [apply_status(status)]))
        for error in change.errors:
            notes.append(f"WhatsApp reported error {error.get('code')}: {error.get('title') or error.get('message')}")
        notes.extend(change.ignored)
    event.error = webhook_events.clean_error("; ".join(notes)) or None


def receive(inbound: InboundMessage) -> Message | None:
    """Store an inbound message in its contact's open conversation; None when it is already stored."""
    if _by_external_id(inbound.wamid) is not None:
        return None
    try:
        e164 = from_wa_id(inbound.wa_id)
    except InvalidPhone:
        raise webhook_events.UnprocessableEvent(
            f"message {inbound.wamid}: the sender's WhatsApp id is not a phone number"
        ) from None
    at = inbound.timestamp or utcnow()
    contact, _ = contacts.get_or_create_for_whatsapp(e164, inbound.wa_id, inbound.profile_name)
    conversation, _ = conversations.open_or_reuse(contact, at=at)
    message = Message(
        conversation=conversation,
        direction=Direction.inbound,
        status=MessageStatus.delivered,
        status_at=at,
        sent_at=at,
        external_id=inbound.wamid,
        message_type=inbound.type,
        body=inbound.body,
        payload_json=inbound.content if inbound.content is not None else _errors_payload(inbound),
        reply_to_external_id=inbound.reply_to,
    )
    if inbound.media is not None:
        message.media_id = inbound.media.id
        message.media_mime_type = inbound.media.mime_type
        message.media_sha256 = inbound.media.sha256
        message.media_filename = inbound.media.filename
    db.session.add(message)
    conversation.last_inbound_at = _latest(conversation.last_inbound_at, at)
    conversation.last_message_at = _latest(conversation.last_message_at, at)
    db.session.flush()
    events.emit("message.created", message=message)
    if message.media_id:
        enqueue_after_commit(db.session, DOWNLOAD_JOB, message.id, queue=OUTBOUND, retry=backoff(DOWNLOAD_TRIES))
    return message


def apply_status(update: StatusUpdate) -> str | None:
    """Move an outbound message's status forward; returns a note when the update names no message."""
    message = _by_external_id(update.wamid)
    if message is None or message.direction != Direction.outbound:
        return f"{update.status} status for unknown message {update.wamid}"
    new = MessageStatus.read if update.status == "played" else MessageStatus(update.status)
    values = {"status_at": update.timestamp or utcnow()}
    if new == MessageStatus.failed:
        values.update(error_code=update.error_code, error_title=update.error_title)
    # One conditional UPDATE: a worker applying `delivered` while another applies `read` to the
    # same message cannot bring it back to `delivered`.
    message_status.change(message, new, only_from=[s for s in MessageStatus if moves_forward(s, new)], **values)
    return None


def moves_forward(old: MessageStatus, new: MessageStatus) -> bool:
    if old == MessageStatus.failed:
        return False
    if new == MessageStatus.failed:
        return old in (MessageStatus.queued, MessageStatus.sent)
    return new.rank > old.rank


def _by_external_id(wamid: str) -> Message | None:
    return db.session.scalars(select(Message).where(Message.external_id == wamid)).first()


def _errors_payload(inbound: InboundMessage) -> dict | None:
    return {"errors": inbound.errors} if inbound.errors else None


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current

