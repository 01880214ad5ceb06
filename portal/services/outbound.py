"""Outbound messages: agent replies and templates, queued as rows and sent by the outbound job.

A reply is stored `queued` and shown at once; portal.jobs.outbound.send_message sends it through
the conversation's channel (portal.channels) after the row is committed. The attempt claims the
message with one conditional UPDATE and is committed before the call, so at most one attempt is in
flight per message whatever started it, and a send whose answer was lost is never blindly repeated
once the channel's id is recorded (docs/architecture.md, "Durability"). Callers commit, except that
`send` commits the attempt through the callback it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from rq import Callback
from sqlalchemy import ColumnElement, or_, update

from portal import channels
from portal.channels import ChannelAdapter, ChannelError, Menu
from portal.channels.base import Remedy
from portal.extensions import db
from portal.models import (
    Agent,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageTemplate,
    utcnow,
)
from portal.queue import OUTBOUND, backoff, enqueue_after_commit
from portal.services import audit, events, inboxes, media_files, message_status, send_rate, templates

log = logging.getLogger(__name__)

# The longest reply the forms and the API take; a channel may take less (ChannelAdapter.max_text_length).
MAX_TEXT_LENGTH = 4096
# Five retries spread over about a minute (base 2 s) ride out rate limits and short outages.
SEND_RETRIES = 5
# A claim outlives the channel call it covers (ChannelAdapter.send_timeout) by this much, time enough to
# commit the outcome; a worker that died mid-attempt frees the message when it expires.
CLAIM_MARGIN = timedelta(seconds=60)
READ_RECEIPT_RETRIES = 3

# messages.message_type of an outbound interactive menu (queue_menu).
MENU = "menu"

SEND_JOB = "portal.jobs.outbound.send_message"
MARK_READ_JOB = "portal.jobs.outbound.mark_read"
SEND_FAILURE_CALLBACK = "portal.jobs.outbound.send_message_failed"

class OutboundError(ValueError):
    """A readable reason a message could not be queued."""


class TooLong(OutboundError):
    """A reply over the channel's limit for one message, refused whole: it may go out in `parts`
    messages if the agent agrees (queue_reply_in_parts), never cut silently."""

    def __init__(self, reason: str, parts: int) -> None:
        super().__init__(reason)
        self.parts = parts


def split_text(body: str, limit: int) -> list[str]:
    """`body` in parts of at most `limit` code points, each ending where a paragraph, a line or a
    word ends when one does within the limit (the break itself is dropped), else cut at the limit."""
    parts = []
    rest = body
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = next((window.rfind(sep) for sep in ("\n\n", "\n", " ") if window.rfind(sep) > 0), -1)
        if cut <= 0:
            parts.append(rest[:limit])
            rest = rest[limit:]
        else:
            parts.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def window_closes_at(conversation: Conversation) -> datetime | None:
    """Until when free text may go out, when the channel limits it (WhatsApp: 24 h after the
    customer's last message)."""
    adapter = channels.adapter_for(conversation)
    return adapter.reply_closes_at(conversation) if adapter is not None else None


def window_refusal(conversation: Conversation) -> str | None:
    """Why free text cannot be sent now, or None when it can; shown before the agent types."""
    adapter = channels.adapter_for(conversation)
    if adapter is None:
        return _("Replies cannot be sent on this conversation's channel.")
    return inboxes.send_refusal(conversation.inbox) or adapter.reply_refusal(conversation)


@dataclass(frozen=True)
class Failure:
    """What a failed (or retrying) bubble shows: a reason in the agent's language, what still
    helps, and for the tooltip the channel's own code and title."""

    reason: str
    remedy: Remedy
    technical: str


def failure(message: Message) -> Failure | None:
    if message.error_code is None and not message.error_title:
        return None
    adapter = channels.adapter_for(message.conversation)
    if adapter is None:
        return Failure(message.error_title or "", Remedy.resend, "")
    refusal = inboxes.send_refusal(message.conversation.inbox) if message.error_code is None else None
    if refusal:
        # Failed (or stuck) because its inbox refuses sends: that, not the channel, is the reason.
        return Failure(refusal, Remedy.resend, message.error_title or "")
    return Failure(
        adapter.describe_failure(message.error_code, message.error_title) or "",
        adapter.failure_remedy(message.error_code),
        adapter.failure_details(message.error_code, message.error_title),
    )


def attempts_shown(message: Message) -> tuple[int, int]:
    """(the attempt under way or next, all attempts there will be) for a retrying bubble."""
    total = SEND_RETRIES + 1
    return min(message.send_attempts + 1, total), total


def _reply_body(conversation: Conversation, body: str) -> tuple[str, int]:
    """The reply as it will be sent and the channel's limit, or why it cannot go out now."""
    # Browsers post a textarea's line breaks as CRLF: one break is one character, as the
    # composer's counter and WhatsApp count it.
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise OutboundError(_("Write a message before sending."))
    refusal = window_refusal(conversation)
    if refusal:
        raise OutboundError(refusal)
    return body, channels.adapter_for(conversation).max_text_length


def _reply(conversation: Conversation, body: str, by: Agent, reply_to: Message | None) -> Message:
    return Message(
        conversation=conversation,
        direction=Direction.outbound,
        body=body,
        message_type="text",
        sender_agent_id=by.id,
        reply_to_external_id=reply_to.external_id if reply_to is not None else None,
    )


def queue_reply(conversation: Conversation, body: str, *, by: Agent, reply_to: Message | None = None) -> Message:
    """Store the agent's free-text reply as `queued` and send it once the transaction commits."""
    body, limit = _reply_body(conversation, body)
    if len(body) > limit:
        raise TooLong(_("A message holds at most %(max)d characters.", max=limit), len(split_text(body, limit)))
    return queue_message(_reply(conversation, body, by, reply_to))


def queue_reply_in_parts(
    conversation: Conversation, body: str, *, by: Agent, reply_to: Message | None = None
) -> list[Message]:
    """A reply over the channel's limit, sent as several messages because the agent agreed to:
    each part is queued now and sent only once the one before it was accepted, so the customer
    reads them in order (`send`); only the first quotes `reply_to`."""
    body, limit = _reply_body(conversation, body)
    texts = split_text(body, limit)
    messages = [
        queue_message(_reply(conversation, text, by, reply_to if n == 0 else None), enqueue=n == 0)
        for n, text in enumerate(texts)
    ]
    if len(messages) > 1:
        link_in_order(messages)
        audit.record("message.split", actor=by, target=messages[0], parts=len(messages))
    return messages


def link_in_order(messages: list[Message]) -> None:
    """Queued messages the customer must read in this order (a split reply's parts; a quick reply's
    text before its file): each is sent only once the one before it was accepted (`send`). Only
    the first may have been enqueued."""
    for n, message in enumerate(messages):
        message.payload_json = {**(message.payload_json or {}), "split": {
            "part": n + 1,
            "of": len(messages),
            "previous": messages[n - 1].id if n > 0 else None,
            "next": messages[n + 1].id if n + 1 < len(messages) else None,
        }}


def _split_link(message: Message, which: str) -> Message | None:
    split = (message.payload_json or {}).get("split")
    linked = split.get(which) if isinstance(split, dict) else None
    return db.session.get(Message, linked) if isinstance(linked, int) else None


def _after_outcome(message: Message) -> None:
    """A part of a split reply was accepted or failed for good: the next part may go now (and,
    after a failure, fails in turn rather than arrive without what came before)."""
    following = _split_link(message, "next")
    if following is not None and following.status == MessageStatus.queued:
        enqueue_send(following)


def queue_automatic_text(conversation: Conversation, body: str) -> Message:
    """An auto-rule's free-text message: only inside the channel's window, marked automatic (no
    author, no first response, triggers no rule)."""
    body = (body or "").strip()
    refusal = window_refusal(conversation)
    if refusal:
        raise OutboundError(refusal)
    limit = channels.adapter_for(conversation).max_text_length
    if not body or len(body) > limit:
        raise OutboundError(_("A message holds at most %(max)d characters.", max=limit))
    message = Message(
        conversation=conversation, direction=Direction.outbound, body=body, message_type="text", is_automatic=True
    )
    return queue_message(message)


def queue_menu(conversation: Conversation, menu: Menu) -> Message:
    """An interactive menu (the triage menu's teams): only inside the channel's window, marked
    automatic like a rule's message (no author, no first response, triggers no rule). `body` is
    its numbered text, which the thread shows and a channel without menus sends
    (ChannelAdapter.send_menu)."""
    refusal = window_refusal(conversation)
    if refusal:
        raise OutboundError(refusal)
    message = Message(
        conversation=conversation,
        direction=Direction.outbound,
        body=menu.numbered_text(),
        message_type=MENU,
        payload_json={"menu": menu.to_json()},
        is_automatic=True,
    )
    return queue_message(message)


def queue_template(
    conversation: Conversation,
    template: MessageTemplate,
    params: list[str] | templates.TemplateParameters,
    *,
    by: Agent | None,
    automatic: bool = False,
) -> Message:
    """Store a template send (rendered body, template and parameters kept so a retry sends the
    same). `params`: the body's values, or TemplateParameters with the header's and buttons' too.
    A template the channel does not allow now (paused, disabled...) is refused before anything is stored."""
    adapter = channels.adapter_for(conversation)
    if adapter is None or not adapter.sends_templates:
        raise OutboundError(_("Templates cannot be sent on this conversation's channel."))
    refusal = (
        inboxes.send_refusal(conversation.inbox)
        or templates.inbox_refusal(template, conversation.inbox)
        or templates.status_refusal(template)
    )
    if refusal:
        raise OutboundError(refusal)
    if not isinstance(params, templates.TemplateParameters):
        params = templates.TemplateParameters(list(params))
    params = templates.TemplateParameters(
        [p.strip() for p in params.body], params.header, [b.strip() for b in params.buttons]
    )
    refusal = templates.parameters_refusal(template, params)
    if refusal:
        raise OutboundError(refusal)
    extras = params.extras_json()
    message = Message(
        conversation=conversation,
        direction=Direction.outbound,
        body=templates.render(template.body, params.body),
        message_type="template",
        template=template,
        template_params=params.body,
        payload_json={"template": extras} if extras else None,
        sender_agent_id=by.id if by is not None else None,
        is_automatic=automatic,
    )
    return queue_message(message)


def queue_message(message: Message, *, enqueue: bool = True) -> Message:
    """Store a checked outbound row as `queued` and send it once the transaction commits (a later
    part of a split reply is enqueued by the previous part's outcome instead)."""
    now = utcnow()
    message.sent_at = now
    message.status = MessageStatus.queued
    message.status_at = now
    message.conversation.last_message_at = now
    db.session.add(message)
    db.session.flush()
    events.emit("message.created", message=message)
    if enqueue:
        enqueue_send(message)
    return message


def enqueue_send(message: Message, retries: int = SEND_RETRIES) -> None:
    enqueue_after_commit(
        db.session,
        SEND_JOB,
        message.id,
        queue=OUTBOUND,
        retry=backoff(retries),
        on_failure=Callback(SEND_FAILURE_CALLBACK),
    )


def resume(message: Message) -> bool:
    """A queued message whose job was lost (the sweep): sent again with the tries it has left,
    counted on the row so a lost job never adds tries; True when it was enqueued, False when it
    had none left and ended `failed` with its last reason."""
    tries_left = SEND_RETRIES + 1 - message.send_attempts
    if tries_left > 0:
        enqueue_send(message, retries=tries_left - 1)
        return True
    fail_after_retries(message, None)
    return False


def send(message: Message, *, save_attempt: Callable[[], None]) -> bool:
    """Send a queued message through its conversation's channel; False when there was nothing to
    send, or another attempt holds the message.

    `save_attempt` commits the claim and the recorded attempt before the call. A retryable
    ChannelError is re-raised (the job retries it); a permanent one marks the message failed with
    its reason.
    """
    adapter = channels.adapter_for(message.conversation)
    if adapter is None:
        return _set_status(
            message,
            MessageStatus.failed,
            only_from=[MessageStatus.queued],
            error_code=None,
            error_title=_("Replies cannot be sent on this conversation's channel."),
        )
    refusal = inboxes.send_refusal(message.conversation.inbox) or (
        templates.status_refusal(message.template) if message.template is not None else None
    )
    if refusal:
        # Queued before the inbox was disabled, or before the channel paused or disabled the
        # template: it ends failed with the reason, never sent.
        return _set_status(
            message, MessageStatus.failed, only_from=[MessageStatus.queued], error_code=None, error_title=refusal
        )
    previous = _split_link(message, "previous")
    if previous is not None and previous.status == MessageStatus.queued:
        return False  # the previous part's outcome enqueues this one (_after_outcome)
    if previous is not None and previous.status == MessageStatus.failed:
        changed = _set_status(
            message, MessageStatus.failed, only_from=[MessageStatus.queued], error_code=None,
            error_title=_("An earlier part of this reply was not sent, so this part was held back."),
        )
        _after_outcome(message)
        return changed
    # The inbox's send rate, shared by every worker (docs/architecture.md, "Proactive messaging").
    send_rate.wait_for_turn(message.conversation.inbox, send_rate.rate_for(message))
    if not _claim(message, adapter.send_timeout() + CLAIM_MARGIN):
        return False
    save_attempt()
    try:
        external_id = _post(adapter, message, save_attempt)
    except ChannelError as error:
        message.send_claimed_until = None
        message.error_code, message.error_title = error.code, error.title
        pause = adapter.rate_limit_pause(error)
        if pause:
            send_rate.slow_down(message.conversation.inbox, pause)
        if error.retryable:
            raise
        log.warning("send of message %s refused: code %s", message.id, error.code)
        _set_status(message, MessageStatus.failed, only_from=[MessageStatus.queued])
        _after_outcome(message)
        return True
    message.send_claimed_until = None
    message.external_id = external_id
    message.error_code = message.error_title = None
    _set_status(message, MessageStatus.sent, only_from=[MessageStatus.queued])
    _after_outcome(message)
    return True


def _claim(message: Message, lease: timedelta) -> bool:
    """Take the message for one attempt and count it: one UPDATE that only a queued message
    the channel has no id for, and that no live attempt holds, lets through."""
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


def _post(adapter: ChannelAdapter, message: Message, save_attempt: Callable[[], None]) -> str:
    if message.template is not None:
        return adapter.send_template(message)
    if message.message_type == MENU:
        return adapter.send_menu(message)
    if message.media_url and not message.media_id:
        # An attachment of ours (portal.services.attachments): the channel's id for the file is
        # committed before the send, so a retry sends that id and never uploads again.
        message.media_id = _upload(adapter, message)
        save_attempt()
    if message.media_id:
        return adapter.send_media(message)
    return adapter.send_text(message)


def _upload(adapter: ChannelAdapter, message: Message) -> str:
    path = media_files.stored_path(message)
    if path is None:
        raise AttachmentMissing()
    with path.open("rb") as file:
        return adapter.upload_media(message, file, path.stat().st_size)


class AttachmentMissing(ChannelError):
    """The attachment's file is gone (MEDIA_ROOT lost, or restored without it): no retry helps."""

    def __init__(self) -> None:
        super().__init__(None, _("The attachment's file is missing from the server."), retryable=False)


def fail_after_retries(message: Message, error: BaseException | None) -> bool:
    """The last retry failed (`error`, or None to keep the reason recorded): the message ends
    `failed`, unless the channel's id was recorded or another attempt (started by an agent's retry
    or an admin's requeue) holds it."""
    if isinstance(error, ChannelError):
        reason = {"error_code": error.code, "error_title": error.title}
    else:
        reason = {"error_title": message.error_title or _("The message could not be sent.")}
    failed = _set_status(
        message,
        MessageStatus.failed,
        only_from=[MessageStatus.queued],
        where=(Message.external_id.is_(None), unclaimed(utcnow())),
        **reason,
    )
    if failed:
        _after_outcome(message)
    return failed


def requeue(message: Message, *, by: Agent | None) -> None:
    """Send a failed message again from its bubble."""
    if message.template is None:
        refusal = window_refusal(message.conversation)
        if refusal:
            raise OutboundError(refusal)
    if not revive(message):
        raise OutboundError(_("Only a failed message that was never accepted can be sent again."))
    audit.record("message.requeued", actor=by, target=message)
    enqueue_send(message)


def revive(message: Message) -> bool:
    """A failed message the channel never accepted goes back to `queued` (an agent's retry, or an
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


def send_read_receipt(message: Message) -> None:
    """Tell the customer's side the message was read. Permanent errors are dropped: a missing
    blue tick is not worth a dead letter; transient ones raise so the job retries."""
    adapter = channels.adapter_for(message.conversation)
    if adapter is None or message.direction != Direction.inbound or not message.external_id:
        return
    inbox = message.conversation.inbox
    if inboxes.send_refusal(inbox):
        return
    try:
        adapter.mark_read(message)
    except ChannelError as error:
        if error.retryable:
            raise
        log.warning("read receipt for message %s refused: code %s", message.id, error.code)
