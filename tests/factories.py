"""Small factories: each adds a row with sensible defaults and flushes; the test commits."""

from __future__ import annotations

import itertools
from datetime import timedelta

from portal.extensions import db
from portal.models import (
    Agent,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    Priority,
    Role,
    utcnow,
)

_seq = itertools.count(1)


def agent(role: Role = Role.agent, password: str = "correct-horse-battery", **fields) -> Agent:
    n = next(_seq)
    row = Agent(
        name=fields.pop("name", f"Agent {n}"),
        email=fields.pop("email", f"agent{n}@example.com"),
        role=role,
        active=fields.pop("active", True),
        **fields,
    )
    row.set_password(password)
    db.session.add(row)
    db.session.flush()
    return row


def contact(**fields) -> Contact:
    n = next(_seq)
    phone = fields.pop("phone", f"+55119{8000_0000 + n:08d}")
    row = Contact(name=fields.pop("name", f"Cliente {n}"), phone=phone, wa_id=phone.lstrip("+"), **fields)
    db.session.add(row)
    db.session.flush()
    return row


def conversation(contact_row: Contact | None = None, **fields) -> Conversation:
    now = utcnow()
    row = Conversation(
        contact=contact_row or contact(),
        channel=fields.pop("channel", Channel.whatsapp),
        status=fields.pop("status", ConversationStatus.new),
        priority=fields.pop("priority", Priority.normal),
        started_at=fields.pop("started_at", now - timedelta(minutes=5)),
        last_inbound_at=fields.pop("last_inbound_at", now - timedelta(minutes=5)),
        last_message_at=fields.pop("last_message_at", now - timedelta(minutes=5)),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def message(conversation_row: Conversation, direction: Direction = Direction.inbound, **fields) -> Message:
    n = next(_seq)
    row = Message(
        conversation=conversation_row,
        direction=direction,
        body=fields.pop("body", f"mensagem {n}"),
        sent_at=fields.pop("sent_at", utcnow()),
        status=fields.pop(
            "status", MessageStatus.delivered if direction == Direction.inbound else MessageStatus.sent
        ),
        external_id=fields.pop("external_id", f"wamid.test{n}"),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row
