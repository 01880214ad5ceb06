"""A contact's timeline (the contact page): every conversation on every channel as it started and
closed, agents' notes, the CRM events sent about the contact, and opt-outs and opt-ins, newest
first, a page at a time.

One UNION ALL of the sources, ordered by time in SQL, pages the timeline (a contact with years of
history is never read whole); each page's rows are then loaded by id. Scope: conversations of
inboxes the agent does not work are left out entirely, as on the contact page, and notes only show
from conversations the agent may open (conversations.can_see).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, func, literal, or_, select, type_coerce, union_all

from portal.extensions import db
from portal.models import (
    NOTE,
    Agent,
    AuditLog,
    Contact,
    Conversation,
    CrmDelivery,
    Direction,
    Message,
)
from portal.services import conversations

PER_PAGE = 25
CONSENT_ACTIONS = ("contact.opted_out", "contact.opted_in")


@dataclass
class Entry:
    kind: str  # conversation, closed, note, crm, consent
    at: datetime
    row: Any  # the Conversation, Message, CrmDelivery or AuditLog


@dataclass
class TimelinePage:
    entries: list[Entry]
    page: int
    has_more: bool


def _union(contact: Contact, agent: Agent):
    listed = [c for c in contact.conversations if conversations.refusal_status(agent, c) != 404]
    listed_ids = [c.id for c in listed] or [0]
    openable_ids = [c.id for c in listed if conversations.can_see(agent, c)] or [0]
    kind = lambda name: literal(name, String)  # noqa: E731
    parts = [
        select(
            kind("conversation").label("kind"),
            Conversation.id.label("id"),
            func.coalesce(Conversation.started_at, Conversation.created_at).label("at"),
        ).where(Conversation.id.in_(listed_ids)),
        select(kind("closed"), Conversation.id, Conversation.closed_at).where(
            Conversation.id.in_(listed_ids), Conversation.closed_at.is_not(None)
        ),
        select(kind("note"), Message.id, Message.sent_at).where(
            Message.conversation_id.in_(openable_ids),
            Message.direction == Direction.internal,
            Message.message_type == NOTE,
        ),
        select(kind("crm"), CrmDelivery.id, CrmDelivery.created_at).where(
            or_(
                CrmDelivery.payload_json[("data", "contact", "id")].as_integer() == contact.id,
                CrmDelivery.payload_json[("data", "conversation", "id")].as_integer().in_(listed_ids),
                CrmDelivery.payload_json[("data", "message", "conversation_id")].as_integer().in_(listed_ids),
            )
        ),
        select(kind("consent"), AuditLog.id, AuditLog.at).where(
            AuditLog.target_type == "contacts",
            AuditLog.target_id == str(contact.id),
            AuditLog.action.in_(CONSENT_ACTIONS),
        ),
    ]
    return union_all(*parts).subquery()


MODELS = {
    "conversation": Conversation,
    "closed": Conversation,
    "note": Message,
    "crm": CrmDelivery,
    "consent": AuditLog,
}


def page(contact: Contact, agent: Agent, number: int = 1, per_page: int | None = None) -> TimelinePage:
    number = max(number, 1)
    per_page = per_page or PER_PAGE
    union = _union(contact, agent)
    # type_coerce, not CAST: SQLite would turn the stored text into a number.
    at = type_coerce(union.c.at, DateTime)
    rows = db.session.execute(
        select(union.c.kind, union.c.id, at)
        .order_by(at.desc(), union.c.kind, union.c.id.desc())
        .limit(per_page + 1)
        .offset((number - 1) * per_page)
    ).all()
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    loaded: dict[tuple[str, int], Any] = {}
    for name, model in MODELS.items():
        ids = [row_id for kind, row_id, _at in rows if kind == name]
        if ids:
            for item in db.session.scalars(select(model).where(model.id.in_(ids))):
                loaded[(name, item.id)] = item
    entries = [
        Entry(kind, at_value, loaded[(kind, row_id)])
        for kind, row_id, at_value in rows
        if (kind, row_id) in loaded
    ]
    return TimelinePage(entries=entries, page=number, has_more=has_more)
