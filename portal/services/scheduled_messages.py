"""Scheduled messages on a conversation: free text (inside the window as it stands when
scheduled) or a template, sent by the worker on time.

The row is the promise (docs/architecture.md, "Proactive messaging"): `send_due` turns each due
`pending` row into an ordinary queued message with one conditional UPDATE in the same transaction,
so a worker killed, Redis lost or a job run twice never sends it twice, and the next tick finds
whatever was left. The channel is asked again at that moment: free text whose window closed
meanwhile ends `failed` with the channel's reason, never sent. Callers commit (send_due commits
per row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal import channels
from portal.extensions import db
from portal.models import (
    Agent,
    Conversation,
    MessageTemplate,
    ScheduledMessage,
    ScheduledMessageStatus,
    utcnow,
)
from portal.services import audit, inboxes, outbound, settings, templates

log = logging.getLogger(__name__)

# Further ahead than this is a typo more often than a plan.
MAX_AHEAD = timedelta(days=366)
DUE_BATCH = 200


class ScheduleError(ValueError):
    """A readable reason a message could not be scheduled or cancelled."""


def schedule(
    conversation: Conversation,
    *,
    by: Agent,
    send_at: datetime,
    body: str | None = None,
    template: MessageTemplate | None = None,
    params: list[str] | None = None,
    now: datetime | None = None,
) -> ScheduledMessage:
    """Keep a message to send at `send_at` (naive UTC). Everything that can be checked now is:
    the time, the text or the template and its parameters, and for free text that the window
    will still be open then."""
    now = now or utcnow()
    if send_at <= now:
        raise ScheduleError(_("Choose a time in the future."))
    if send_at - now > MAX_AHEAD:
        raise ScheduleError(_("Choose a time within a year."))
    refusal = inboxes.send_refusal(conversation.inbox)
    if refusal:
        raise ScheduleError(refusal)
    row = ScheduledMessage(conversation=conversation, created_by_id=by.id, send_at=send_at)
    if template is not None:
        if not templates.can_send(template):
            raise ScheduleError(_("WhatsApp does not allow this template now: choose another."))
        refusal = templates.inbox_refusal(template, conversation.inbox)
        if refusal:
            raise ScheduleError(refusal)
        if templates.needs_extra_parameters(template):
            # scheduled_messages keeps body values only (template_params).
            raise ScheduleError(_("A template with a header or buttons to fill cannot be scheduled: send it now."))
        params = [p.strip() for p in params or []]
        expected = templates.placeholder_count(template.body)
        if len(params) != expected or not all(params):
            raise ScheduleError(
                _("The template %(key)s needs %(count)d filled-in parameters.", key=template.template_key, count=expected)
            )
        row.template = template
        row.template_params = params
        row.body = templates.render(template.body, params)
    else:
        text = (body or "").replace("\r\n", "\n").strip()
        if not text:
            raise ScheduleError(_("Write a message before sending."))
        limit = channels.adapter_for(conversation).max_text_length
        if len(text) > limit:
            raise ScheduleError(_("A message holds at most %(max)d characters.", max=limit))
        closes_at = outbound.window_closes_at(conversation)
        if outbound.window_refusal(conversation) or (closes_at is not None and send_at >= closes_at):
            raise ScheduleError(
                _("Free text cannot go out at that time: the customer's window will be closed. Schedule a template.")
            )
        row.body = text
    db.session.add(row)
    db.session.flush()
    audit.record("scheduled_message.created", actor=by, target=conversation, send_at=send_at.isoformat())
    return row


def pending_for(conversation: Conversation) -> list[ScheduledMessage]:
    return list(
        db.session.scalars(
            select(ScheduledMessage)
            .where(
                ScheduledMessage.conversation_id == conversation.id,
                ScheduledMessage.status == ScheduledMessageStatus.pending,
            )
            .order_by(ScheduledMessage.send_at, ScheduledMessage.id)
        )
    )


def cancel(row: ScheduledMessage, *, by: Agent) -> None:
    """Cancel a pending message; one that the worker already took cannot be."""
    now = utcnow()
    done = db.session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.id == row.id, ScheduledMessage.status == ScheduledMessageStatus.pending)
        .values(status=ScheduledMessageStatus.cancelled, cancelled_at=now, cancelled_by_id=by.id, updated_at=now)
    ).rowcount
    if not done:
        raise ScheduleError(_("This message was already sent or cancelled."))
    db.session.refresh(row)
    audit.record("scheduled_message.cancelled", actor=by, target=row.conversation)


def send_due(*, now: datetime | None = None, commit: Callable[[], None]) -> tuple[int, int]:
    """Queue every due pending message; (queued, failed). `commit` ends each row's transaction."""
    now = now or utcnow()
    due = db.session.scalars(
        select(ScheduledMessage.id)
        .where(ScheduledMessage.status == ScheduledMessageStatus.pending, ScheduledMessage.send_at <= now)
        .order_by(ScheduledMessage.send_at, ScheduledMessage.id)
        .limit(DUE_BATCH)
    ).all()
    queued = failed = 0
    for row_id in due:
        outcome = _send_one(row_id)
        commit()
        queued += outcome is True
        failed += outcome is False
    return queued, failed


def _send_one(row_id: int) -> bool | None:
    """True: queued as a message; False: refused by the channel now; None: another worker took it."""
    now = utcnow()
    taken = db.session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.id == row_id, ScheduledMessage.status == ScheduledMessageStatus.pending)
        .values(status=ScheduledMessageStatus.sent, updated_at=now)
    ).rowcount
    if not taken:
        return None
    row = db.session.get(ScheduledMessage, row_id)
    db.session.refresh(row)
    author = db.session.get(Agent, row.created_by_id) if row.created_by_id is not None else None
    try:
        with db.session.begin_nested():
            if row.template is not None:
                message = outbound.queue_template(row.conversation, row.template, list(row.template_params or []), by=author)
            elif author is None:
                raise outbound.OutboundError(_("The agent who wrote it no longer exists."))
            else:
                message = outbound.queue_reply(row.conversation, row.body, by=author)
    except outbound.OutboundError as error:
        row.status = ScheduledMessageStatus.failed
        row.error = str(error)
        log.info("scheduled message %s not sent: %s", row.id, type(error).__name__)
        return False
    row.message_id = message.id
    return True


def parse_local(raw: str) -> datetime:
    """A `datetime-local` value ("2026-12-24T09:30") in the installation's time zone, as naive UTC."""
    try:
        local = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise ScheduleError(_("Give a date and a time.")) from None
    if local.tzinfo is not None:
        local = local.replace(tzinfo=None)
    return local.replace(tzinfo=ZoneInfo(settings.time_zone())).astimezone(UTC).replace(tzinfo=None)
