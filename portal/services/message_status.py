"""A message's status changes as conditional UPDATEs, so that concurrent writers (two workers with
the `delivered` and `read` webhooks of one message, an agent's retry and an admin's requeue) can
never undo each other's change: each UPDATE names the status it read, and a writer that lost the
race reads the row again and decides anew (README: "Delivery guarantees")."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, update

from portal.extensions import db
from portal.models import Message, MessageStatus
from portal.services import events


def change(
    message: Message,
    new: MessageStatus,
    *,
    only_from: Collection[MessageStatus],
    where: tuple[ColumnElement[bool], ...] = (),
    **values: Any,
) -> bool:
    """Set `new` (and `values`) when the stored status is one of `only_from` and the `where`
    conditions hold; True when this call made the change, which it then announces
    (message.status_changed). The in-memory message is kept in step with the row."""
    old = MessageStatus(message.status)
    while old in only_from:
        changed = db.session.execute(
            update(Message)
            .where(Message.id == message.id, Message.status == old, *where)
            .values(status=new, **values)
        ).rowcount
        if changed:
            events.emit("message.status_changed", message=message, old=old)
            return True
        db.session.refresh(message)
        if message.status == old:  # the status held but a `where` condition did not
            return False
        old = MessageStatus(message.status)
    return False
