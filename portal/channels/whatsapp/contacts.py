"""WhatsApp senders as contacts: found by phone in any format (portal.services.contacts), created
on first contact, and followed to a new number when WhatsApp reports a change."""

from __future__ import annotations

from datetime import datetime

from portal.channels.whatsapp import notes
from portal.extensions import db
from portal.models import Contact
from portal.services import audit, contact_admin, contacts, events, webhook_events


def get_or_create(e164: str, wa_id: str, profile_name: str | None) -> tuple[Contact, bool]:
    """The contact for an inbound WhatsApp sender, created on first contact. Returns (contact, created).

    The profile name fills a missing name but never overwrites one an agent typed."""
    contact = contacts.find_by_phone(e164)
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


def change_number(
    old_e164: str, new_e164: str, new_wa_id: str, *, at: datetime, notice_id: str
) -> str | None:
    """WhatsApp says the customer moved from `old_e164` to `new_e164`: the same contact takes the
    new number and keeps its history. A contact the new number already had (the customer wrote
    from it before this notice arrived) is merged into it. Returns a note when there is nothing
    to move. The audit entry names the notice (whose stored webhook event holds both numbers) and
    the merged contact, not the numbers: the audit log is no second copy of customer data."""
    contact = contacts.find_by_phone(old_e164)
    if contact is None:
        already = contacts.find_by_phone(new_e164)
        if already is not None and already.wa_id == new_wa_id:
            return None  # a redelivered notice: the move is done
        return webhook_events.stored_text(notes.NO_CONTACT_FOR_NUMBER_CHANGE)
    newer = contacts.find_by_phone(new_e164)
    merged_id = None
    if newer is not None and newer.id != contact.id:
        merged_id = newer.id
        contact_admin.merge(contact, newer, by=None)
    contact.phone, contact.wa_id = new_e164, new_wa_id
    db.session.flush()
    audit.record(
        "contact.whatsapp_number_changed",
        target=contact,
        whatsapp_notice=notice_id,
        reported_at=at.isoformat(),
        merged_contact_id=merged_id,
    )
    events.emit("contact.updated", contact=contact)
    return None
