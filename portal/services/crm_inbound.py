"""Inbound CRM webhook: events the CRM sends us, stored as webhook_events (provider "crm") and
processed by the webhooks worker like WhatsApp's.

Wire format (signed like our outbound events: X-Atende-Timestamp and X-Atende-Signature =
"sha256=" + hex HMAC-SHA256(CRM_WEBHOOK_SECRET, "<timestamp>.<raw body>"), five-minute window):
  {"type": "contact.upsert",
   "data": {"phone": "+55 11 98765-4321", "name": "...", "email": "...", "city": "...",
            "tags": ["vip", "lead"]}}
`contact.created` and `contact.updated` are read the same way. Unknown fields are ignored; only
the fields present change (a missing e-mail keeps ours). Other event types are stored and
marked processed with a note.

Processing:
- the contact is found by phone (ninth-digit twins included) or created (the phone stands in
  for a missing name, as for WhatsApp);
- a missing or invalid phone fails the event at once, with the reason in its `error`;
  an invalid e-mail is skipped and noted, the rest still applies;
- tags live on conversations in this schema, so they are added to the contact's open
  conversation (never removing an agent's tags); with no open conversation they are not
  applied and the event's `error` holds the note.
Changes emit contact.updated like any edit, so the CRM hears back only when something changed.

Replays: a request whose signature, or whose event `id`, was already seen within the signature
window (and a little more) is refused before anything is stored. The seen keys live in Redis with
that expiry; while Redis cannot answer, requests are refused with 503 (the CRM sends them again).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import Contact, WebhookEvent
from portal.queue import redis_connection
from portal.services import contact_admin, contacts, conversations, crm, webhook_events
from portal.services.contact_admin import ContactValidationError

PROVIDER = "crm"
UPSERT_TYPES = frozenset({"contact.upsert", "contact.created", "contact.updated"})
DEFAULT_TYPE = "contact.upsert"

# Notes and errors stored on the event in English, shown translated (webhook_events.readable_error).
TYPE_NOT_HANDLED = _l("Events of type %(type)s are stored only: Atende does not act on them.")
DATA_WITHOUT_PHONE = _l("The event's data must be an object with at least a phone.")
INVALID_PHONE = _l("The event's phone (data.phone) is not a valid phone number.")
INVALID_EMAIL = _l("The event's e-mail is not a valid address and was ignored.")
TAGS_WITHOUT_CONVERSATION = _l("The contact has no open conversation, so these tags were not applied: %(tags)s.")
NOTES = (TYPE_NOT_HANDLED, DATA_WITHOUT_PHONE, INVALID_PHONE, INVALID_EMAIL, TAGS_WITHOUT_CONVERSATION)


# A timestamp may be up to the window old or ahead, so a signature stays valid for twice the window.
SEEN_SECONDS = 2 * crm.SIGNATURE_WINDOW_SECONDS + 60
SEEN_KEY = "atende:crm-webhook:seen:{}"


def replay_keys(signature: str, payload: dict[str, Any]) -> list[str]:
    keys = [SEEN_KEY.format("sig:" + signature.strip())]
    if isinstance(payload.get("id"), str | int):
        keys.append(SEEN_KEY.format(f"id:{payload['id']}"[:200]))
    return keys


def claim(keys: list[str]) -> bool:
    """Remember these keys; False when one was seen within SEEN_SECONDS (a replay).
    Raises redis.exceptions.RedisError while Redis cannot tell."""
    pipe = redis_connection().pipeline()
    for key in keys:
        pipe.set(key, 1, nx=True, ex=SEEN_SECONDS)
    return all(pipe.execute())


def release(keys: list[str]) -> None:
    """Forget a request that was not stored after all, so that the CRM may send it again."""
    redis_connection().delete(*keys)


def receive(payload: dict[str, Any]) -> int:
    """Store a verified CRM event (committed, its job enqueued) and return its id."""
    event_type = payload.get("type")
    return webhook_events.store(PROVIDER, event_type if isinstance(event_type, str) else DEFAULT_TYPE, payload)


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else None


def process(event: WebhookEvent) -> None:
    payload = event.payload_json if isinstance(event.payload_json, dict) else {}
    if event.event_type not in UPSERT_TYPES:
        event.error = webhook_events.stored_text(TYPE_NOT_HANDLED, type=event.event_type)
        return
    data = payload.get("data")
    if not isinstance(data, dict):
        raise webhook_events.UnprocessableEvent(webhook_events.stored_text(DATA_WITHOUT_PHONE))
    try:
        phone = contact_admin.clean_phone(_text(data, "phone") or "")
    except ContactValidationError:
        raise webhook_events.UnprocessableEvent(webhook_events.stored_text(INVALID_PHONE)) from None
    notes: list[str] = []
    present = {key: _text(data, key) for key in ("name", "email", "city")}
    fields = {key: value for key, value in present.items() if value is not None}
    if "email" in fields:
        try:
            contact_admin.clean_email(fields["email"])
        except ContactValidationError:
            notes.append(webhook_events.stored_text(INVALID_EMAIL))
            del fields["email"]
    contact = _upsert(phone, fields)
    tags = [t for t in data.get("tags") or [] if isinstance(t, str) and t.strip()]
    if tags:
        notes.extend(_add_tags(contact, tags))
    event.error = "; ".join(notes) or None


def _upsert(phone: str, fields: dict[str, str]) -> Contact:
    contact = contacts.find_by_phone(phone)
    if contact is None:
        return contact_admin.create(
            name=fields.get("name") or phone, phone=phone, email=fields.get("email"), city=fields.get("city"), by=None
        )
    if fields.get("name") == "":
        del fields["name"]  # an empty name never blanks ours
    contact_admin.update(contact, by=None, **fields)
    return contact


def _add_tags(contact: Contact, tags: list[str]) -> list[str]:
    open_conversations = [c for c in contact.conversations if c.is_open]
    if not open_conversations:
        return [webhook_events.stored_text(TAGS_WITHOUT_CONVERSATION, tags=", ".join(sorted(set(tags))))]
    for conversation in open_conversations:
        conversations.set_tags(conversation, [t.name for t in conversation.tags] + tags, by=None)
    return []

