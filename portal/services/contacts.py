"""Contacts: finding them by phone in any format and creating them from WhatsApp."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Contact
from portal.phones import variants
from portal.services import events


def find_by_phone(e164: str) -> Contact | None:
    """The contact for this E.164 number, matching Brazilian numbers with or without the ninth digit."""
    return db.session.scalars(select(Contact).where(Contact.phone.in_(variants(e164))).limit(1)).first()


def get_or_create_for_whatsapp(e164: str, wa_id: str, profile_name: str | None) -> tuple[Contact, bool]:
    """The contact for an inbound WhatsApp sender, created on first contact. Returns (contact, created).

    The profile name fills a missing name but never overwrites one an agent typed."""
    contact = find_by_phone(e164)
    if contact is None:
        contact = Contact(phone=e164, wa_id=wa_id, name=(profile_name or "").strip() or e164)
        db.session.add(contact)
        db.session.flush()
        events.emit("contact.created", contact=contact)
        return contact, True
    changed = False
    if contact.wa_id != wa_id:
        contact.wa_id = wa_id
        changed = True
    if profile_name and contact.name == contact.phone:
        contact.name = profile_name.strip()
        changed = True
    if changed:
        events.emit("contact.updated", contact=contact)
    return contact, False
