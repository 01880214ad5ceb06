"""Snoozing a conversation (docs/architecture.md, "Notes, transfers and snoozes").

A snoozed conversation (conversations.snoozed_at set) leaves the open list for the Snoozed tab
until snoozed_until, or, when that is null, until the customer writes. It comes back once: the
scheduled job (portal.jobs.snooze) takes the due ones and wakes each with one conditional UPDATE
that only a still-snoozed row passes, so two workers running the job at once, or the job and the
customer's message, never bring it back twice. Each change leaves a line in the thread (an
`activity` row, models docstring "messages") and an audit entry. Callers commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import (
    ACTIVITY,
    Agent,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    utcnow,
)
from portal.services import audit, events, thread_lines
from portal.services.conversations import ConversationError
from portal.services.thread_lines import BY_CUSTOMER, BY_TIME, ENDED, SNOOZED, UNSNOOZED

WAKE_BATCH = 500
# "Tomorrow" and "next Monday" mean this time in the installation's time zone.
MORNING = time(9, 0)


def until_for(choice: str, at: str, zone: str, now: datetime | None = None) -> datetime | None:
    """The naive-UTC end of the snooze chosen in the thread: "1h", "tomorrow", "next_week",
    "custom" (the local date and time `at`), or None for "customer" (until the customer writes)."""
    now = now or utcnow()
    local_zone = ZoneInfo(zone)
    local_now = now.replace(tzinfo=UTC).astimezone(local_zone)
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "customer":
        return None
    if choice == "tomorrow":
        local = datetime.combine(local_now.date() + timedelta(days=1), MORNING, local_zone)
    elif choice == "next_week":
        local = datetime.combine(local_now.date() + timedelta(days=7 - local_now.weekday()), MORNING, local_zone)
    elif choice == "custom":
        try:
            local = datetime.fromisoformat(at).replace(tzinfo=local_zone)
        except ValueError:
            raise ConversationError(_("Choose a date and time.")) from None
    else:
        raise ConversationError(_("Choose how long to snooze."))
    return local.astimezone(UTC).replace(tzinfo=None)


def snooze(conversation: Conversation, until: datetime | None, *, by: Agent, now: datetime | None = None) -> None:
    """Snooze until `until` (naive UTC), or until the customer writes when it is None."""
    now = now or utcnow()
    if not conversation.is_open:
        raise ConversationError(_("Only an open conversation can be snoozed."))
    if until is not None and until <= now:
        raise ConversationError(_("Choose a time in the future."))
    conversation.snoozed_at = now
    conversation.snoozed_until = until
    thread_lines.add(conversation, ACTIVITY, payload={"activity": SNOOZED, "until": until.isoformat() if until else None}, by=by, at=now)
    audit.record("conversation.snoozed", actor=by, target=conversation, until=until.isoformat() if until else None)
    events.emit("conversation.snoozed", conversation=conversation, by=by)


def unsnooze(conversation: Conversation, *, by: Agent) -> bool:
    """An agent brings it back before its time; False when it was not snoozed."""
    if not _wake_row(conversation.id):
        return False
    db.session.refresh(conversation)
    thread_lines.add(conversation, ACTIVITY, payload={"activity": UNSNOOZED}, by=by)
    audit.record("conversation.unsnoozed", actor=by, target=conversation)
    events.emit("conversation.snooze_ended", conversation=conversation, by=by)
    return True


def _wake_row(conversation_id: int, due_by: datetime | None = None) -> bool:
    """Clear the snooze in one UPDATE that only a snoozed row (due by `due_by`, when given) passes."""
    conditions = [Conversation.id == conversation_id, Conversation.snoozed_at.is_not(None)]
    if due_by is not None:
        conditions.append(Conversation.snoozed_until <= due_by)
    result = db.session.execute(
        update(Conversation)
        .where(*conditions)
        .values(snoozed_at=None, snoozed_until=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def _ended(conversation: Conversation, reason: str, at: datetime) -> None:
    thread_lines.add(conversation, ACTIVITY, payload={"activity": ENDED, "reason": reason}, by=None, at=at)
    audit.record("conversation.snooze_ended", target=conversation, reason=reason)
    events.emit("conversation.snooze_ended", conversation=conversation, by=None)


def wake_due(now: datetime | None = None, limit: int = WAKE_BATCH) -> list[Conversation]:
    """Bring back every conversation whose snooze is due at `now` (the scheduled job's clock)."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Conversation.id)
            .where(Conversation.snoozed_until <= now, Conversation.snoozed_at.is_not(None))
            .order_by(Conversation.snoozed_until)
            .limit(limit)
        )
    )
    woken = []
    for conversation_id in due:
        if not _wake_row(conversation_id, due_by=now):
            continue  # another worker, the customer or an agent was first
        conversation = db.session.get(Conversation, conversation_id)
        db.session.refresh(conversation)
        _ended(conversation, BY_TIME, now)
        woken.append(conversation)
    return woken


def on_message_created(_name: str, *, message: Message) -> None:
    """Subscriber: the customer wrote in a snoozed conversation, which comes back at once."""
    conversation = message.conversation
    if message.direction != Direction.inbound or conversation.snoozed_at is None:
        return
    if _wake_row(conversation.id):
        conversation.snoozed_at = conversation.snoozed_until = None
        _ended(conversation, BY_CUSTOMER, message.sent_at)


def on_status_changed(_name: str, *, conversation: Conversation, new: ConversationStatus, **_data) -> None:
    """Subscriber: a conversation closed while snoozed has nothing to come back to."""
    if new in ConversationStatus.closed_states() and conversation.snoozed_at is not None:
        conversation.snoozed_at = conversation.snoozed_until = None
