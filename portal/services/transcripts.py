"""A conversation's transcript as CSV, notes and the thread's activity lines included and said
for what they are (never sent to the customer), so an export holds what the team saw."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import NOTE, Agent, Conversation, Direction, Message
from portal.services import audit, thread_lines
from portal.services.representations import utc_seconds
from portal.services.spreadsheet import safe_cell


def _kind(message: Message) -> str:
    if message.direction == Direction.inbound:
        return _("Customer")
    if message.direction == Direction.outbound:
        return _("Reply")
    return _("Note (not sent)") if message.message_type == NOTE else _("Activity")


def _author(message: Message, customer: str) -> str:
    if message.direction == Direction.inbound:
        return customer
    if message.direction == Direction.internal:
        return message.sender.name if message.sender is not None else "Atende"
    return message.sender.name if message.sender is not None else _("Automatic")


def _text(message: Message) -> str:
    if message.direction != Direction.internal:
        return message.body
    heading = thread_lines.describe(message)
    return f"{heading}: {message.body}" if message.body else heading


def csv_text(conversation: Conversation, *, by: Agent) -> str:
    """Every row of the thread, oldest first: when (UTC), what, who, the text. Audited: it copies a
    customer's conversation out of the portal."""
    rows = db.session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .options(selectinload(Message.sender))
        .order_by(Message.sent_at, Message.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Sent at (UTC)"), _("Kind"), _("Author"), _("Text")])
    customer = conversation.contact.name
    for message in rows:
        cells = [utc_seconds(message.sent_at) or "", _kind(message), _author(message, customer), _text(message)]
        writer.writerow([safe_cell(cell) for cell in cells])
    audit.record("conversation.exported", actor=by, target=conversation)
    return buffer.getvalue()
