"""WhatsApp notifications turned into contacts, conversations, messages and status changes.

One stored webhook event is one unit of work: every message and status in it is applied in the
caller's transaction, so a crash leaves all of it or none (docs/architecture.md, "Durability").

- A message is stored once per WhatsApp id: a redelivered notification adds nothing.
- `payload_json` holds the object named like the message type (text, image, location, the
  contacts list...); an `unsupported` message keeps WhatsApp's `unsupported` object with its
  `errors` added, and the first error's code and title in error_code and error_title.
- A reaction, an edit and a deletion change the message they name and add no row
  (docs/whatsapp-inbound.md): no unread count, no SLA wait, no auto-rule, no new window.
- A click-to-WhatsApp `referral` is kept on the conversation (the first one it gets).
- A number change (`system` user_changed_number) moves the contact to the new number.
- Statuses only move forward (sent → delivered → read; a voice note's `played` is read), under any
  interleaving of the workers applying them (portal.services.message_status).
  `failed` is terminal, and only a message WhatsApp has not yet delivered can fail: a late
  `failed` for a delivered or read message, or a late `sent` for a failed one, is ignored.
- Each change is routed to the inbox of the number it names (`metadata.phone_number_id`). A
  change for a number no inbox knows is kept only in the stored event: when no change of the event
  names a known number the event fails with that reason (replay it once the inbox exists); in a
  batch that also holds known numbers, the event is processed and the unknown number is noted.
- What cannot be applied but is no failure (a status for a message we never sent, errors
  WhatsApp reports about our number) is noted on the event, which is still processed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.channels.whatsapp import contacts, notes, template_reviews, webhook
from portal.channels.whatsapp.webhook import (
    EDIT,
    REACTION,
    REVOKE,
    InboundMessage,
    PayloadError,
    StatusUpdate,
)
from portal.extensions import db
from portal.models import Direction, Inbox, Message, MessageStatus, WebhookEvent, utcnow
from portal.phones import InvalidPhone, from_wa_id
from portal.services import conversations, csat, events, inboxes, media_files, message_status, webhook_events


def process_event(event: WebhookEvent) -> None:
    """The "whatsapp" processor of portal.services.webhook_events (registered by the adapter)."""
    try:
        changes = webhook.parse(event.payload_json)
    except PayloadError as exc:
        raise webhook_events.UnprocessableEvent(str(exc)) from None
    remarks: list[str] = []
    routed = unknown = 0
    for change in changes:
        if change.messages or change.statuses:
            inbox = _inbox_for(change)
            if inbox is None:
                unknown += 1
                remarks.append(webhook_events.stored_text(notes.UNKNOWN_NUMBER, number=change.phone_number_id or ""))
                continue
            routed += 1
            for message in change.messages:
                remarks.extend(filter(None, [apply_message(message, inbox)]))
            for status in change.statuses:
                remarks.extend(filter(None, [apply_status(status)]))
        for update in change.template_statuses:
            remarks.extend(filter(None, [template_reviews.apply(update)]))
        for error in change.errors:
            remarks.append(
                webhook_events.stored_text(
                    notes.WHATSAPP_ERROR, code=error.get("code"), title=error.get("title") or error.get("message")
                )
            )
        remarks.extend(change.ignored)
    if unknown and not routed:
        raise webhook_events.UnprocessableEvent("; ".join(remarks))
    event.error = webhook_events.clean_error("; ".join(remarks)) or None


def _inbox_for(change) -> Inbox | None:
    return inboxes.by_phone_number_id(change.phone_number_id) if change.phone_number_id else None


def apply_message(inbound: InboundMessage, inbox: Inbox) -> str | None:
    """Store an inbound message in `inbox`, or apply it to the message it changes; a note when it
    names nothing we hold."""
    if inbound.type == REACTION:
        return _react(inbound)
    if inbound.type in (EDIT, REVOKE):
        return _change_earlier(inbound)
    if inbound.new_wa_id is not None:
        return _change_number(inbound)
    receive(inbound, inbox)
    return None


def receive(inbound: InboundMessage, inbox: Inbox) -> Message | None:
    """Store an inbound message in its contact's open conversation in `inbox`; None when it is
    already stored."""
    if _by_external_id(inbound.wamid) is not None:
        return None
    e164 = _e164(inbound, inbound.wa_id, notes.SENDER_ID_NOT_PHONE)
    at = inbound.timestamp or utcnow()
    contact, _ = contacts.get_or_create(e164, inbound.wa_id, inbound.profile_name)
    message = Message(
        direction=Direction.inbound,
        status=MessageStatus.delivered,
        status_at=at,
        sent_at=at,
        external_id=inbound.wamid,
        message_type=inbound.type,
        body=inbound.body,
        payload_json=_payload(inbound),
        reply_to_external_id=inbound.reply_to,
    )
    # A rating (or its comment) answering a closed conversation's survey stays in that
    # conversation without reopening it (portal.services.csat).
    if csat.take_answer(message, contact, inbox, at):
        conversation = message.conversation
    else:
        conversation, _ = conversations.open_or_reuse(contact, inbox=inbox, at=at)
        message.conversation = conversation
    if inbound.referral is not None and conversation.referral is None:
        conversation.referral = inbound.referral
    if inbound.errors:
        message.error_code, message.error_title = webhook.first_error(inbound.errors)
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
        media_files.enqueue_download(message)
    return message


def _react(inbound: InboundMessage) -> str | None:
    """The customer's reaction replaces the one shown on the message it names; an empty emoji
    removes it. A redelivered older reaction changes nothing."""
    message = _by_external_id(inbound.target) if inbound.target else None
    if message is None:
        return webhook_events.stored_text(notes.UNKNOWN_REACTION, wamid=inbound.target)
    at = inbound.timestamp or utcnow()
    if message.reaction_at is not None and at < message.reaction_at:
        return None
    message.reaction_emoji = inbound.body[:32] or None
    message.reaction_at = at
    return None


def _change_earlier(inbound: InboundMessage) -> str | None:
    """An edit shows the new text (payload_json keeps the original); a revoke marks the message
    deleted by the customer. Only the customer's own messages change."""
    message = _by_external_id(inbound.target) if inbound.target else None
    if message is None or message.direction != Direction.inbound:
        unknown = notes.UNKNOWN_DELETION if inbound.type == REVOKE else notes.UNKNOWN_EDIT
        return webhook_events.stored_text(unknown, wamid=inbound.target)
    at = inbound.timestamp or utcnow()
    if inbound.type == REVOKE:
        message.deleted_at = message.deleted_at or at
    elif message.edited_at is None or at >= message.edited_at:
        message.body = inbound.body
        message.edited_at = at
    return None


def _change_number(inbound: InboundMessage) -> str | None:
    new_wa_id = inbound.new_wa_id or ""
    return contacts.change_number(
        _e164(inbound, inbound.wa_id, notes.OLD_ID_NOT_PHONE),
        _e164(inbound, new_wa_id, notes.NEW_ID_NOT_PHONE),
        new_wa_id,
        at=inbound.timestamp or utcnow(),
        notice_id=inbound.wamid,
    )


def _e164(inbound: InboundMessage, wa_id: str, not_a_phone) -> str:
    try:
        return from_wa_id(wa_id)
    except InvalidPhone:
        raise webhook_events.UnprocessableEvent(webhook_events.stored_text(not_a_phone, wamid=inbound.wamid)) from None


def _payload(inbound: InboundMessage) -> Any:
    if inbound.type == "unsupported":
        kind = inbound.content if isinstance(inbound.content, dict) else {}
        return {**kind, "errors": inbound.errors} if inbound.errors else kind or None
    if inbound.content is None and inbound.errors:
        return {"errors": inbound.errors}
    return inbound.content


def apply_status(update: StatusUpdate) -> str | None:
    """Move an outbound message's status forward; returns a note when the update names no message."""
    message = _by_external_id(update.wamid)
    if message is None or message.direction != Direction.outbound:
        return webhook_events.stored_text(notes.UNKNOWN_STATUS, wamid=update.wamid)
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


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current

