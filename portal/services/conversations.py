"""Conversations: opening, scoping by role, and the state changes agents make.

Each change records an audit row and emits an event (portal.services.events); SLA, auto-rules and
CRM delivery react to those events inside the same transaction. Callers commit.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from portal.extensions import db
from portal.models import (
    Agent,
    Contact,
    Conversation,
    ConversationStatus,
    Inbox,
    Priority,
    Role,
    Tag,
    utcnow,
)
from portal.services import audit, events, inboxes


class ConversationError(ValueError):
    """A readable reason a conversation change was refused."""


class NotYoursToMove(ConversationError):
    """An agent tried to reassign a colleague's conversation."""


def open_conversation_for(contact: Contact, inbox_id: int) -> Conversation | None:
    return db.session.scalars(
        select(Conversation).where(
            Conversation.contact_id == contact.id,
            Conversation.inbox_id == inbox_id,
            Conversation.status.notin_(ConversationStatus.closed_states()),
        )
    ).first()


def open_or_reuse(contact: Contact, *, inbox: Inbox, at: datetime) -> tuple[Conversation, bool]:
    """The contact's open conversation in this inbox, or a new one (status `new`) started at `at`."""
    conversation = open_conversation_for(contact, inbox.id)
    if conversation is not None:
        return conversation, False
    conversation = Conversation(
        contact=contact,
        inbox=inbox,
        channel=inbox.channel,
        status=ConversationStatus.new,
        priority=Priority.normal,
        started_at=at,
        last_message_at=at,
    )
    db.session.add(conversation)
    db.session.flush()
    events.emit("conversation.created", conversation=conversation)
    return conversation, True


def visible_to(agent: Agent) -> Select:
    """Conversations this agent may see: agents see their own and unassigned ones in the inboxes
    they are members of; supervisors and admins see all."""
    query = select(Conversation)
    if not inboxes.sees_every_inbox(agent):
        query = query.where(
            or_(Conversation.assigned_to == agent.id, Conversation.assigned_to.is_(None)),
            Conversation.inbox_id.in_(inboxes.member_inbox_ids(agent)),
        )
    return query


def can_see(agent: Agent, conversation: Conversation) -> bool:
    return refusal_status(agent, conversation) is None


def refusal_status(agent: Agent, conversation: Conversation) -> int | None:
    """None when `agent` may open the conversation, else the HTTP status to answer: 404 outside
    their inboxes (its existence is not even told), 403 when it is assigned to another agent."""
    if inboxes.sees_every_inbox(agent):
        return None
    if not inboxes.is_member(agent, conversation.inbox_id):
        return 404
    return None if conversation.assigned_to in (None, agent.id) else 403


def change_status(conversation: Conversation, status: ConversationStatus, *, by: Agent | None) -> bool:
    """Move the conversation to `status`; returns False when it was already there."""
    old = ConversationStatus(conversation.status)
    status = ConversationStatus(status)
    if old == status:
        return False
    if status not in ConversationStatus.closed_states() and old in ConversationStatus.closed_states():
        other = open_conversation_for(conversation.contact, conversation.inbox_id)
        if other is not None and other.id != conversation.id:
            raise ConversationError(
                f"The contact already has an open conversation (#{other.id}); reopen is not possible."
            )
    conversation.status = status
    conversation.closed_at = utcnow() if status in ConversationStatus.closed_states() else None
    audit.record("conversation.status_changed", actor=by, target=conversation, old=old.value, new=status.value)
    events.emit("conversation.status_changed", conversation=conversation, old=old, new=status, by=by)
    return True


def set_priority(conversation: Conversation, priority: Priority, *, by: Agent | None) -> bool:
    old = Priority(conversation.priority)
    priority = Priority(priority)
    if old == priority:
        return False
    conversation.priority = priority
    audit.record("conversation.priority_changed", actor=by, target=conversation, old=old.value, new=priority.value)
    events.emit("conversation.priority_changed", conversation=conversation, old=old, by=by)
    return True


def assign(conversation: Conversation, agent: Agent | None, *, by: Agent) -> bool:
    """Assign to `agent` (None unassigns). An agent may take an unassigned conversation, hand
    their own or an unassigned one to a colleague who may see it, or release their own; moving a
    colleague's conversation needs a supervisor (docs/architecture.md, "Roles and scopes")."""
    new_id = agent.id if agent is not None else None
    if conversation.assigned_to == new_id:
        return False
    if not by.has_role(Role.supervisor) and conversation.assigned_to not in (None, by.id):
        raise NotYoursToMove(_("Only supervisors can move a conversation assigned to someone else."))
    if agent is not None and not agent.active:
        raise ConversationError(_("An inactive agent cannot receive conversations."))
    if agent is not None and not may_receive(agent, conversation):
        raise ConversationError(_("%(name)s does not work in this conversation's inbox.", name=agent.name))
    old_id = conversation.assigned_to
    conversation.assigned_to = new_id
    audit.record("conversation.assigned", actor=by, target=conversation, old=old_id, new=new_id)
    events.emit("conversation.assigned", conversation=conversation, old_agent_id=old_id, by=by)
    return True


def may_receive(agent: Agent, conversation: Conversation, memberships: set[tuple[int, int]] | None = None) -> bool:
    """Whether the conversation may be assigned to `agent`: an active agent who would see it once
    assigned to them (a member of its inbox, or a supervisor or admin). `memberships`: the pairs
    inboxes.memberships read for a caller that asks about many agents or conversations."""
    if not agent.active:
        return False
    if inboxes.sees_every_inbox(agent):
        return True
    if memberships is not None:
        return (agent.id, conversation.inbox_id) in memberships
    return inboxes.is_member(agent, conversation.inbox_id)


def normalize_tag_name(name: str) -> str:
    return " ".join(name.strip().lower().split())[:60]


def get_or_create_tag(name: str) -> Tag:
    name = normalize_tag_name(name)
    if not name:
        raise ConversationError(_("A tag needs a name."))
    tag = db.session.scalars(select(Tag).where(Tag.name == name)).first()
    if tag is None:
        tag = Tag(name=name)
        db.session.add(tag)
        db.session.flush()
    return tag


def set_tags(conversation: Conversation, names: list[str], *, by: Agent | None) -> bool:
    """Replace the conversation's tags with `names`, creating new tags on the fly."""
    current = {t.name: t for t in conversation.tags}
    tags = {
        t.name: t
        for t in (current.get(normalize_tag_name(n)) or get_or_create_tag(n) for n in names if normalize_tag_name(n))
    }
    old = sorted(t.name for t in conversation.tags)
    if old == sorted(tags):
        return False
    conversation.tags = sorted(tags.values(), key=lambda t: t.name)
    audit.record("conversation.tags_changed", actor=by, target=conversation, old=old, new=sorted(tags))
    events.emit("conversation.tags_changed", conversation=conversation, by=by)
    return True
