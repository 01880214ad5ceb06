"""Read state per agent: how far each agent has read each conversation, and the WhatsApp read
receipt that only the agent answering a conversation sends.

Reading is always a POST from a visible page (the inbox's script posts it while
document.visibilityState is "visible"): a GET never marks anything read, so a background tab or a
poll sends the customer no blue ticks. Unread counts are per agent; an agent without a row for a
conversation counts the inbound messages that nobody answering it has opened (messages.read_at).
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Agent, Conversation, ConversationRead, Direction, Message, utcnow
from portal.queue import OUTBOUND, backoff, enqueue_after_commit
from portal.services import outbound, settings


def answers_customer(agent: Agent, conversation: Conversation) -> bool:
    """Whether this agent's reading counts for the customer: the assignee's, or anyone's while
    nobody is assigned. A supervisor looking at a colleague's conversation does not."""
    return conversation.assigned_to in (None, agent.id)


def _row(agent: Agent, conversation: Conversation) -> ConversationRead:
    row = db.session.get(ConversationRead, (agent.id, conversation.id))
    if row is not None:
        return row
    try:
        # Two tabs of one agent may post at once: the second insert finds the first one's row.
        with db.session.begin_nested():
            row = ConversationRead(agent_id=agent.id, conversation_id=conversation.id, last_read_message_id=0)
            db.session.add(row)
    except IntegrityError:
        row = db.session.get(ConversationRead, (agent.id, conversation.id))
    return row


def mark_read(agent: Agent, conversation: Conversation, up_to_message_id: int) -> int:
    """The agent saw the thread up to `up_to_message_id` (the newest message on their screen).
    Returns how many inbound messages became read for them. The customer gets a read receipt (when
    the setting is on) only when the agent answers the conversation."""
    newest_shown = db.session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conversation.id, Message.id <= up_to_message_id)
    )
    if newest_shown is None:
        return 0
    row = _row(agent, conversation)
    newly_read = db.session.scalar(
        select(func.count()).where(*_unread_for(row), Message.conversation_id == conversation.id,
                                   Message.id <= newest_shown)
    )
    row.last_read_message_id = max(row.last_read_message_id, newest_shown)
    row.last_read_at = utcnow()
    if answers_customer(agent, conversation):
        _mark_opened(conversation, newest_shown)
    return newly_read or 0


def _unread_for(row: ConversationRead):
    """Inbound messages after the row's mark; before the agent's first mark, those nobody answering opened."""
    inbound = Message.direction == Direction.inbound
    if row.last_read_message_id:
        return (inbound, Message.id > row.last_read_message_id)
    return (inbound, Message.read_at.is_(None))


def _mark_opened(conversation: Conversation, newest_shown: int) -> None:
    unopened = list(
        db.session.scalars(
            select(Message).where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.inbound,
                Message.read_at.is_(None),
                Message.id <= newest_shown,
            )
        )
    )
    if not unopened:
        return
    now = utcnow()
    for message in unopened:
        message.read_at = now
    if settings.send_read_receipts():
        # Marking the latest message read marks every earlier one read too.
        latest = max((m for m in unopened if m.external_id), key=lambda m: (m.sent_at, m.id), default=None)
        if latest is not None:
            enqueue_after_commit(
                db.session,
                outbound.MARK_READ_JOB,
                latest.id,
                queue=OUTBOUND,
                retry=backoff(outbound.READ_RECEIPT_RETRIES),
            )


def mark_unread(agent: Agent, conversation: Conversation) -> bool:
    """The customer's newest message counts as unread again, for this agent only (nothing is sent).
    False when the conversation has no message from the customer."""
    newest_inbound = db.session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conversation.id, Message.direction == Direction.inbound
        )
    )
    if newest_inbound is None:
        return False
    before = db.session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conversation.id, Message.id < newest_inbound)
    )
    row = _row(agent, conversation)
    # 0 would mean "no mark yet"; -1 marks everything unread when the customer's message is the first.
    row.last_read_message_id = before if before is not None else -1
    row.last_read_at = utcnow()
    return True


def _unread_messages(agent: Agent) -> Select:
    """Inbound messages this agent has not read: after their mark, or, before their first mark in
    a conversation, those nobody answering it opened."""
    read = ConversationRead
    marked = and_(read.last_read_message_id != 0, Message.id > read.last_read_message_id)
    unmarked = and_(or_(read.agent_id.is_(None), read.last_read_message_id == 0), Message.read_at.is_(None))
    return (
        select(Message.conversation_id)
        .select_from(Message)
        .outerjoin(read, and_(read.conversation_id == Message.conversation_id, read.agent_id == agent.id))
        .where(Message.direction == Direction.inbound, or_(marked, unmarked))
    )


def unread_counts(agent: Agent, conversation_ids: list[int]) -> dict[int, int]:
    """Unread inbound messages per conversation, for this agent."""
    if not conversation_ids:
        return {}
    query = (
        _unread_messages(agent)
        .add_columns(func.count())
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    return dict(db.session.execute(query).tuples().all())


def conversations_with_unread(agent: Agent) -> Select:
    """The ids of conversations holding a message this agent has not read (a subquery)."""
    return _unread_messages(agent).distinct()
