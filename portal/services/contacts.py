"""Contacts: finding them by phone in any format or by e-mail address (a channel creates them from
what it receives: portal.channels.whatsapp.contacts, portal.channels.email.inbound)."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Contact
from portal.phones import variants


def find_by_phone(e164: str) -> Contact | None:
    """The contact for this E.164 number, matching Brazilian numbers with or without the ninth digit."""
    return db.session.scalars(select(Contact).where(Contact.phone.in_(variants(e164))).limit(1)).first()


def find_by_email(address: str) -> Contact | None:
    """The oldest contact with this e-mail address (the e-mail channel's senders; stored lowercased,
    and matched as typed for contacts edited by hand)."""
    address = address.strip()
    return db.session.scalars(
        select(Contact).where(Contact.email.in_({address.lower(), address})).order_by(Contact.id).limit(1)
    ).first()
