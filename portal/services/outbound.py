"""Outbound messages: agent replies and templates, queued as rows and sent by the outbound job.

A reply is stored `queued` and shown at once; portal.jobs.outbound.send_message posts it to the
Graph API after the row is committed. The attempt claims the message with one conditional UPDATE
and is committed before the call, so at most one attempt is in flight per message whatever started
it, and a send whose answer was lost is never blindly repeated once WhatsApp's id is recorded
(README: "Delivery guarantees"). Callers commit, except that `send` commits the attempt through
the callback it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from rq import Callback
from sqlalchemy import ColumnElement, or_, select, update

from portal.channels.whatsapp.client import GraphClient, GraphError, SendResult, graph_client
from portal.extensions import db
from portal.models import (
    Agent,
    Channel,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageTemplate,
    utcnow,
)
from portal.queue import OUTBOUND, backoff, enqueue_after_commit
from portal.services import audit, events, message_status, settings, templates

log = logging.getLogger(__name__)

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT_LENGTH = 4096
# Five retries spread over about a minute (base 2 s) ride out rate limits and short outages.
SEND_RETRIES = 5
# A claim outlives the Graph call it covers (the client's timeout) by this much, time enough to
# commit the outcome; a worker that died mid-attempt frees the message when it expires.
CLAIM_MARGIN = timedelta(seconds=60)
READ_RECEIPT_RETRIES = 3

SEND_JOB = "portal.jobs.outbound.send_message"
MARK_READ_JOB = "portal.jobs.outbound.mark_read"
SEND_FAILURE_CALLBACK = "portal.jobs.outbound.send_message_failed"

# What the agent reads on a failed bubble, by Graph API error code (shared/whatsapp/README.md).
FAILURE_REASONS = {
    131047: _l("More than 24 hours since the customer's last message: send a template instead."),
    131026: _l("Undeliverable: the number is not on WhatsApp, uses an old app, or blocked us."),
    131048: _l("Sending is paused: too many customers blocked or reported our messages."),
    131051: _l("WhatsApp does not support this message type."),
    131052: _l("The media could not be downloaded."),
    131053: _l("The media could not be uploaded."),
    100: _l("WhatsApp refused a parameter of the message."),
    131008: _l("A required parameter is missing."),
    131009: _l("A parameter value is not valid."),
    132000: _l("The template's parameter count does not match."),
    132001: _l("The template does not exist in WhatsApp Manager for this language."),
    132005: _l("The filled-in template text is too long."),
    132012: _l("A template parameter has the wrong format."),
    133010: _l("Our phone number is not registered with WhatsApp."),
    190: _l("The WhatsApp access token expired or is invalid; an admin must renew it."),
    368: _l("The WhatsApp account is restricted for policy reasons."),
    131031: _l("The WhatsApp account is locked."),
    130429: _l("WhatsApp's rate limit was reached."),
    131056: _l("Too many messages to this customer in a short time."),
}


class OutboundError(ValueError):
    """A readable reason a message could not be queued."""


def window_closes_at(conversation: Conversation) -> datetime | None:
    """When free text stops being allowed: 24 h after the customer's last message (None: never wrote)."""
    if conversation.last_inbound_at is None:
        return None
    return conversation.last_inbound_at + CUSTOMER_SERVICE_WINDOW


def within_window(conversation: Conversation, now: datetime | None = None) -> bool:
    closes_at = window_closes_at(conversation)
    return closes_at is not None and (now or utcnow()) < closes_at


def window_refusal(conversation: Conversation) -> str | None:
    """Why free text cannot be sent now, or None when it can; shown before the agent types."""
    if conversation.channel != Channel.whatsapp:
        return _("Replies can only be sent on WhatsApp conversations.")
    if conversation.last_inbound_at is None:
        return _("The customer has not written yet: only a template can start the conversation.")
    if not within_window(conversation):
        return _(
            "More than 24 hours have passed since the customer's last message, so WhatsApp only "
            "accepts an approved template."
        )
    return None


def failure_reason(message: Message) -> str | None:
    """The sentence shown on a failed (or retrying) bubble."""
    if message.error_code is None and not message.error_title:
        return None
    reason = FAILURE_REASONS.get(message.error_code) if message.error_code is not None else None
    return str(reason) if reason else message.error_title


def queue_reply(conversation: Conversation, body: str, *, by: Agent, reply_to: Message | None = None) -> Message:
    """Store the agent's free-text reply as `queued` and send it once the transaction commits."""
    body = (body or "").strip()
    if not body:
        raise OutboundError(_("Write a message before sending."))
    if len(body) > MAX_TEXT_LENGTH:
        raise OutboundError(_("WhatsApp accepts at most %(max)d characters per message.", max=MAX_TEXT_LENGTH))
    refusal = window_refusal(conversation)
    if refusal:
        raise OutboundError(refusal)
    message = Message(
        conversation=conversation,
        direction=Direction.outbound,
        body=body,
        message_type="text",
        sender_agent_id=by.id,
        reply_to_external_id=reply_to.external_id if reply_to is not None else None,
    )
    return _queue(message)


def queue_template(
    conversation: Conversation,
    template: MessageTemplate,
    params: list[str],
    *,
    by: Agent | None,
    automatic: bool = False,
) -> Message:
    """Store a template send (rendered body, template and parameters kept so a retry sends the same)."""
    if conversation.channel != Channel.whatsapp:
        raise OutboundError(_("Templates can only be sent on WhatsApp conversations."))
    params = [p.strip() for p in params]
    expected = templates.placeholder_count(template.body)
    if len(params) != expected or not all(params):
        raise OutboundError(
            _("The template %(key)s needs %(count)d filled-in parameters.", key=template.template_key, count=expected)
        )
    message = Message(
        conversation=conversation,
        direction=Direction.outbound,
        body=templates.render(template.body, params),
        message_type="template",
        template=template,
        template_params=params,
        sender_agent_id=by.id if by is not None else None,
        is_automatic=automatic,
    )
    return _queue(message)


def _queue(message: Message) -> Message:
    now = utcnow()
    message.sent_at = now
    message.status = MessageStatus.queued
    message.status_at = now
    message.conversation.last_message_at = now
    db.session.add(message)
    db.session.flush()
    events.emit("message.created", message=message)
    enqueue_send(message)
    return message


def enqueue_send(message: Message) -> None:
    enqueue_after_commit(
        db.session,
        SEND_JOB,
        message.id,
        queue=OUTBOUND,
        retry=backoff(SEND_RETRIES),
        on_failure=Callback(SEND_FAILURE_CALLBACK),
    )


def send(message: Message, *, save_attempt: Callable[[], None], client: GraphClient | None = None) -> bool:
    """Post a queued message to the Graph API; False when there was nothing to send, or another
    attempt holds the message.

    `save_attempt` commits the claim and the recorded attempt before the call. A retryable
    GraphError is re-raised (the job retries it); a permanent one marks the message failed with
    its reason.
    """
    client = client or graph_client()
    if not _claim(message, timedelta(seconds=client.timeout) + CLAIM_MARGIN):
        return False
    save_attempt()
    try:
        result = _post(client, message)
    except GraphError as error:
        message.send_claimed_until = None
        message.error_code, message.error_title = error.code, error.title
        if error.retryable:
            raise
        log.warning("send of message %s refused: code %s", message.id, error.code)
        _set_status(message, MessageStatus.failed, only_from=[MessageStatus.queued])
        return True
    message.send_claimed_until = None
    message.external_id = result.message_id
    message.error_code = message.error_title = None
    _set_status(message, MessageStatus.sent, only_from=[MessageStatus.queued])
    return True


def _claim(message: Message, lease: timedelta) -> bool:
    """Take the message for one attempt and count it: one UPDATE that only a queued message
    WhatsApp has no id for, and that no live attempt holds, lets through."""
    now = utcnow()
    return bool(
        db.session.execute(
            update(Message)
            .where(
                Message.id == message.id,
                Message.status == MessageStatus.queued,
                Message.external_id.is_(None),
                unclaimed(now),
            )
            .values(send_attempts=Message.send_attempts + 1, send_attempted_at=now, send_claimed_until=now + lease)
        ).rowcount
    )


def unclaimed(now: datetime) -> ColumnElement[bool]:
    """No send attempt holds the message (none started, or its claim expired)."""
    return or_(Message.send_claimed_until.is_(None), Message.send_claimed_until <= now)


def _post(client: GraphClient, message: Message) -> SendResult:
    contact = message.conversation.contact
    to = contact.wa_id or contact.phone.lstrip("+")
    if message.template is not None:
        template = message.template
        return client.send_template(to, template.template_key, template.language, message.template_params or [])
    return client.send_text(to, message.body, reply_to=message.reply_to_external_id)


def fail_after_retries(message: Message, error: BaseException) -> bool:
    """The last retry failed: the message ends `failed`, unless WhatsApp's id was recorded or
    another attempt (started by an agent's retry or an admin's requeue) holds it."""
    if isinstance(error, GraphError):
        reason = {"error_code": error.code, "error_title": error.title}
    else:
        reason = {"error_title": message.error_title or _("The message could not be sent.")}
    return _set_status(
        message,
        MessageStatus.failed,
        only_from=[MessageStatus.queued],
        where=(Message.external_id.is_(None), unclaimed(utcnow())),
        **reason,
    )


def requeue(message: Message, *, by: Agent | None) -> None:
    """Send a failed message again from its bubble."""
    if message.template is None:
        refusal = window_refusal(message.conversation)
        if refusal:
            raise OutboundError(refusal)
    if not revive(message):
        raise OutboundError(_("Only a failed message that WhatsApp never accepted can be sent again."))
    audit.record("message.requeued", actor=by, target=message)
    enqueue_send(message)


def revive(message: Message) -> bool:
    """A failed message WhatsApp never accepted goes back to `queued` (an agent's retry, or an
    admin requeueing its dead-letter job); False for anything else."""
    return _set_status(
        message,
        MessageStatus.queued,
        only_from=[MessageStatus.failed],
        where=(Message.external_id.is_(None),),
        error_code=None,
        error_title=None,
    )


def _set_status(message: Message, status: MessageStatus, **conditions_and_values) -> bool:
    return message_status.change(message, status, status_at=utcnow(), **conditions_and_values)


def mark_conversation_read(conversation: Conversation) -> int:
    """An agent opened the conversation: its inbound messages count as read in the portal, and
    (when the setting is on) WhatsApp shows the customer blue ticks. Returns how many were unread."""
    unread = list(
        db.session.scalars(
            select(Message).where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.inbound,
                Message.read_at.is_(None),
            )
        )
    )
    if not unread:
        return 0
    now = utcnow()
    for message in unread:
        message.read_at = now
    if settings.send_read_receipts():
        # Marking the latest message read marks every earlier one read too.
        latest = max((m for m in unread if m.external_id), key=lambda m: (m.sent_at, m.id), default=None)
        if latest is not None:
            enqueue_after_commit(db.session, MARK_READ_JOB, latest.id, queue=OUTBOUND, retry=backoff(READ_RECEIPT_RETRIES))
    return len(unread)


def send_read_receipt(message: Message, client: GraphClient | None = None) -> None:
    """Tell WhatsApp the customer's message was read. Permanent errors are dropped: a missing
    blue tick is not worth a dead letter; transient ones raise so the job retries."""
    if message.direction != Direction.inbound or not message.external_id:
        return
    try:
        (client or graph_client()).mark_read(message.external_id)
    except GraphError as error:
        if error.retryable:
            raise
        log.warning("read receipt for message %s refused: code %s", message.id, error.code)
