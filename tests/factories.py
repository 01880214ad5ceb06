"""Small factories: each adds a row with sensible defaults and flushes; the test commits."""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal import crypto
from portal.extensions import db
from portal.models import (
    Agent,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    Priority,
    Role,
    utcnow,
)

_seq = itertools.count(1)


def inbox(**fields) -> Inbox:
    """A WhatsApp inbox with a number and token of its own (the simulator must be told of both)."""
    n = next(_seq)
    row = Inbox(
        channel=fields.pop("channel", Channel.whatsapp),
        name=fields.pop("name", f"Inbox {n}"),
        enabled=fields.pop("enabled", True),
        phone_number_id=fields.pop("phone_number_id", f"2000000{n:08d}"),
        access_token_encrypted=crypto.encrypt(fields.pop("access_token", f"token-of-inbox-{n}")),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def default_inbox() -> Inbox:
    """The inbox of the app's configured number and token (the fixture payloads' number), made on
    first use: what an install's first inbox is."""
    number = current_app.config["WHATSAPP_PHONE_NUMBER_ID"]
    row = db.session.scalar(select(Inbox).where(Inbox.phone_number_id == number))
    return row or inbox(name="WhatsApp", phone_number_id=number, access_token=current_app.config["WHATSAPP_ACCESS_TOKEN"])


def agent(role: Role = Role.agent, password: str = "correct-horse-battery", **fields) -> Agent:
    """An agent, a member of the default inbox unless `inboxes` says otherwise."""
    n = next(_seq)
    member_of = fields.pop("inboxes", None)
    row = Agent(
        name=fields.pop("name", f"Agent {n}"),
        email=fields.pop("email", f"agent{n}@example.com"),
        role=role,
        active=fields.pop("active", True),
        inboxes=list(member_of) if member_of is not None else [default_inbox()],
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
        inbox=fields.pop("inbox", None) or default_inbox(),
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
