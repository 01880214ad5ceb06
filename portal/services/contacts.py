"""Contacts: finding them by phone in any format (a channel creates them from what it receives:
portal.channels.whatsapp.contacts)."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Contact
from portal.phones import variants


def find_by_phone(e164: str) -> Contact | None:
    """The contact for this E.164 number, matching Brazilian numbers with or without the ninth digit."""
    return db.session.scalars(select(Contact).where(Contact.phone.in_(variants(e164))).limit(1)).first()
