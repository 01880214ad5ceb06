"""Writing first: a conversation an agent (or the API) starts with a contact, new or known.

The contact is found by phone in any format, or created; the conversation is the contact's open
one in the chosen inbox, or a new one assigned to whoever starts it. What may go out is the
channel's decision (portal.channels, through outbound): on WhatsApp a conversation nobody wrote in
for 24 hours, or a new one, opens only with an approved template, and the page says so before the
agent types (docs/architecture.md, "Proactive messaging"). Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.extensions import db
from portal.models import Agent, Contact, Conversation, Inbox, Message, MessageTemplate, utcnow
from portal.phones import InvalidPhone, normalize
from portal.services import contact_admin, contacts, conversations, inboxes, outbound, templates


class OutreachError(ValueError):
    """Why a conversation could not be started, per field ("contact", "inbox", "message")."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def usable_inboxes(agent: Agent) -> list[Inbox]:
    """The inboxes `agent` may start a conversation from: theirs (every one for supervisors)."""
    return inboxes.visible_inboxes(agent)


def phone_of(text: str) -> str | None:
    """`text` as an E.164 number, when it is one (in any format); None for a name."""
    try:
        return normalize(text)
    except InvalidPhone:
        return None


def contact_for(*, contact_id: int | None, phone: str | None, name: str | None, by: Agent) -> Contact:
    """The chosen contact, the contact holding `phone`, or a new one with `name` (the number
    itself when no name is given)."""
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None:
            raise OutreachError({"contact": _("That contact no longer exists.")})
        return contact
    e164 = phone_of(phone or "")
    if e164 is None:
        raise OutreachError({"contact": _("Give a contact or a valid phone number.")})
    existing = contacts.find_by_phone(e164)
    if existing is not None:
        return existing
    try:
        return contact_admin.create(name=(name or "").strip() or e164, phone=e164, by=by)
    except contact_admin.ContactValidationError as error:
        raise OutreachError({"contact": "; ".join(error.errors.values())}) from None


@dataclass(frozen=True)
class Window:
    """What may go out to a contact from an inbox now: the conversation that would be reused
    (None: a new one opens) and why free text cannot go out (None: it can)."""

    conversation: Conversation | None
    refusal: str | None


def window(contact: Contact | None, inbox: Inbox) -> Window:
    """For a known contact, or (None) one about to be created."""
    existing = conversations.open_conversation_for(contact, inbox.id) if contact is not None else None
    if existing is not None:
        return Window(existing, outbound.window_refusal(existing))
    # Not added to the session: only asked what its channel allows (a conversation the customer
    # never wrote in takes a template only on WhatsApp).
    probe = Conversation(inbox=inbox, channel=inbox.channel, last_inbound_at=None)
    return Window(None, outbound.window_refusal(probe))


def check_inbox(inbox: Inbox | None, by: Agent) -> Inbox:
    if inbox is None or not (inboxes.sees_every_inbox(by) or inboxes.is_member(by, inbox.id)):
        raise OutreachError({"inbox": _("Choose one of your inboxes.")})
    refusal = inboxes.send_refusal(inbox)
    if refusal:
        raise OutreachError({"inbox": refusal})
    return inbox


def start(
    contact: Contact,
    inbox: Inbox,
    *,
    by: Agent,
    body: str | None = None,
    template: MessageTemplate | None = None,
    params: list[str] | templates.TemplateParameters | None = None,
) -> Message:
    """Open (or reuse) the contact's conversation in `inbox` and queue its first message: the
    template with `params` (the body's values, or with the header's and buttons' too), or free
    text where the channel allows it now."""
    check_inbox(inbox, by)
    existing = conversations.open_conversation_for(contact, inbox.id)
    if existing is not None and conversations.refusal_status(by, existing) is not None:
        raise OutreachError(
            {"contact": _("%(name)s already has an open conversation in this inbox, handled by a colleague.",
                          name=contact.name)}
        )
    if template is not None and not templates.can_send(template):
        raise OutreachError({"message": _("WhatsApp does not allow this template now: choose another.")})
    conversation, created = conversations.open_or_reuse(contact, inbox=inbox, at=utcnow())
    if created:
        conversations.assign(conversation, by, by=by)
    try:
        if template is not None:
            return outbound.queue_template(conversation, template, params or [], by=by)
        return outbound.queue_reply(conversation, body or "", by=by)
    except outbound.OutboundError as error:
        raise OutreachError({"message": str(error)}) from None
