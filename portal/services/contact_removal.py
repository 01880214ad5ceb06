"""Deleting a contact, which only a contact without conversations allows: a conversation's
messages and SLA history must never lose their customer (merge contacts instead)."""

from __future__ import annotations

from flask_babel import ngettext
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agent, Contact, Conversation
from portal.services import audit


class ContactInUse(ValueError):
    """The contact still has conversations."""


def remove(contact: Contact, *, by: Agent) -> None:
    count = db.session.scalar(select(func.count()).where(Conversation.contact_id == contact.id))
    if count:
        raise ContactInUse(
            ngettext(
                "The contact has %(num)d conversation; merge it into another contact instead.",
                "The contact has %(num)d conversations; merge it into another contact instead.",
                count,
            )
        )
    audit.record("contact.deleted", actor=by, target=contact)
    db.session.delete(contact)
    db.session.flush()
