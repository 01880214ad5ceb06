"""The thread's rows of our own (direction `internal`, models docstring "messages"): notes, a
transfer's note, and the lines that say what happened to a snooze; written by portal.services.notes
and portal.services.snooze, and described here once for the thread and the transcript export."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import format_datetime
from flask_babel import gettext as _

from portal.extensions import db
from portal.models import NOTE, Agent, Conversation, Direction, Message, MessageStatus, utcnow

# payload_json["activity"] of an `activity` row, and why a snooze ended by itself.
SNOOZED = "snoozed"
UNSNOOZED = "unsnoozed"
ENDED = "snooze_ended"
BY_TIME = "time"
BY_CUSTOMER = "customer"


def add(
    conversation: Conversation,
    message_type: str,
    *,
    by: Agent | None,
    body: str = "",
    payload: dict | None = None,
    at: datetime | None = None,
) -> Message:
    """Store an internal row: shown in the thread, never sent (its status is `sent`: nothing to deliver)."""
    at = at or utcnow()
    message = Message(
        conversation=conversation,
        direction=Direction.internal,
        message_type=message_type,
        body=body,
        payload_json=payload,
        sender_agent_id=by.id if by is not None else None,
        status=MessageStatus.sent,
        sent_at=at,
        status_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message


def transfer_of(message: Message) -> dict | None:
    """{"from": agent id or None, "to": agent id} for a transfer's note, else None."""
    transfer = (message.payload_json or {}).get("transfer")
    return transfer if isinstance(transfer, dict) else None


def _name(agent_id: object) -> str:
    agent = db.session.get(Agent, agent_id) if isinstance(agent_id, int) else None
    return agent.name if agent is not None else _("Unassigned")


def describe(message: Message) -> str:
    """What an internal row is, in the reader's language: whose note, who transferred to whom, or
    what happened to a snooze."""
    author = message.sender.name if message.sender is not None else "Atende"
    if message.message_type == NOTE:
        handed = transfer_of(message)
        if handed is not None:
            return _("%(author)s transferred the conversation to %(name)s", author=author, name=_name(handed.get("to")))
        return _("Note by %(author)s", author=author)
    line = message.payload_json or {}
    activity = line.get("activity")
    if activity == SNOOZED and line.get("until"):
        until = format_datetime(datetime.fromisoformat(line["until"]).replace(tzinfo=UTC), "short")
        return _("%(author)s snoozed the conversation until %(time)s", author=author, time=until)
    if activity == SNOOZED:
        return _("%(author)s snoozed the conversation until the customer writes", author=author)
    if activity == UNSNOOZED:
        return _("%(author)s brought the conversation back from its snooze", author=author)
    if line.get("reason") == BY_CUSTOMER:
        return _("Back from its snooze: the customer wrote")
    return _("Back from its snooze: its time came")
