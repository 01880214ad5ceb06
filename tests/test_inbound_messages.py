"""Signed notifications of every message type, processed by the real worker, become contacts,
conversations and messages, once."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    WebhookStatus,
)
from portal.services import contacts, events
from tests import factories

SENT_AT = datetime(2024, 11, 25, 8, 0, 0)  # the fixtures' timestamp 1732521600, in UTC


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_text_message_creates_contact_conversation_and_message(db, deliver, whatsapp_payload):
    [event] = deliver(whatsapp_payload("text"))
    assert event.status == WebhookStatus.processed and event.processed_at is not None and event.error is None
    contact = db.session.scalar(select(Contact))
    assert (contact.phone, contact.wa_id, contact.name) == ("+5521998765432", "5521998765432", "Maria Souza")
    conversation = db.session.scalar(select(Conversation))
    assert conversation.contact_id == contact.id
    assert conversation.status == ConversationStatus.new
    assert conversation.started_at == SENT_AT
    assert conversation.last_inbound_at == SENT_AT and conversation.last_message_at == SENT_AT
    message = db.session.scalar(select(Message))
    assert message.direction == Direction.inbound and message.status == MessageStatus.delivered
    assert message.external_id == "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABIYFjNFQjATEXT01"
    assert message.message_type == "text"
    assert message.body == "Bom dia! Vocês entregam em Niterói?"
    assert message.sent_at == SENT_AT
    assert message.payload_json == {"body": "Bom dia! Vocês entregam em Niterói?"}


def test_a_contact_another_worker_created_meanwhile_is_used_and_the_event_does_not_fail(
    db, deliver, whatsapp_payload, monkeypatch
):
    """Two workers take two messages of a new customer at once: both find no contact, and the
    second INSERT breaks the unique phone. The unit of work runs again at once and finds the other
    worker's contact: the event is processed, not left failed until RQ's retry (docs/benchmarks.md)."""
    find_by_phone = contacts.find_by_phone

    def found_while_another_worker_commits(e164: str):
        if _count(db, Contact) == 0:
            with Session(db.engine) as other_worker:
                other_worker.add(Contact(phone=e164, wa_id=e164.lstrip("+"), name="Maria Souza"))
                other_worker.commit()
            return None
        return find_by_phone(e164)

    monkeypatch.setattr(contacts, "find_by_phone", found_while_another_worker_commits)
    [event] = deliver(whatsapp_payload("text"))
    assert event.status == WebhookStatus.processed and event.error is None and event.attempts == 1
    assert _count(db, Contact) == 1 and _count(db, Message) == 1 and _count(db, Conversation) == 1


EXPECTED = {
    "image": ("image", "Foto do defeito", {"media_id": "1479537139650973", "media_mime_type": "image/jpeg"}),
    "audio_voice": ("audio", "", {"media_id": "2750327998452211", "media_mime_type": "audio/ogg; codecs=opus"}),
    "video": ("video", "", {"media_id": "917442306681245", "media_mime_type": "video/mp4"}),
    "document": (
        "document",
        "Nota fiscal",
        {"media_id": "1320174892134567", "media_filename": "NF-2024-118.pdf", "media_mime_type": "application/pdf"},
    ),
    "sticker": ("sticker", "", {"media_id": "8412093351829920", "media_mime_type": "image/webp"}),
    "location": ("location", "Loja Centro, Av. Rio Branco, 156 - Centro, Rio de Janeiro", {}),
    "contacts": ("contacts", "João Pereira +55 21 99123-4567", {}),
    "interactive_button_reply": (
        "interactive",
        "Confirmar visita",
        {"reply_to_external_id": "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND02"},
    ),
    "interactive_list_reply": ("interactive", "Plano Pro", {}),
    "template_button": (
        "button",
        "Parar promoções",
        {"reply_to_external_id": "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND03"},
    ),
    "unsupported": ("unsupported", "Message type unknown", {}),
    "text_reply_context": (
        "text",
        "Pode ser amanhã",
        {"reply_to_external_id": "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND01"},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_message_type_is_stored_with_its_structured_part(db, deliver, whatsapp_payload, name):
    payload = whatsapp_payload(name)
    raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed, event.error
    message_type, body, fields = EXPECTED[name]
    message = db.session.scalar(select(Message))
    assert message.external_id == raw["id"]
    assert message.message_type == message_type
    assert message.body == body
    assert message.payload_json == raw.get(raw["type"], {"errors": raw.get("errors")})
    for field, value in fields.items():
        assert getattr(message, field) == value, field


def test_a_redelivered_notification_adds_nothing(db, deliver, whatsapp_payload):
    events_ = deliver(whatsapp_payload("text"), whatsapp_payload("text"))
    assert [e.status for e in events_] == [WebhookStatus.processed, WebhookStatus.processed]
    assert _count(db, Message) == 1
    assert _count(db, Contact) == 1
    assert _count(db, Conversation) == 1


def test_a_batch_of_entries_changes_and_messages_is_processed_in_one_event(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"].append(whatsapp_payload("image")["entry"][0]["changes"][0]["value"]["messages"][0])
    other = whatsapp_payload("location")
    other_value = other["entry"][0]["changes"][0]["value"]
    other_value["contacts"] = [{"profile": {"name": "Carlos"}, "wa_id": "5511987654321"}]
    other_value["messages"][0]["from"] = "5511987654321"
    reaction = whatsapp_payload("reaction")["entry"][0]["changes"][0]
    reaction["value"]["messages"][0]["reaction"]["message_id"] = value["messages"][0]["id"]
    payload["entry"][0]["changes"].append(reaction)
    payload["entry"].append(other["entry"][0])
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed, event.error
    assert sorted(db.session.scalars(select(Message.message_type))) == ["image", "location", "text"]
    assert db.session.scalar(select(Message.reaction_emoji).where(Message.message_type == "text")) == "👍"
    assert sorted(db.session.scalars(select(Contact.name))) == ["Carlos", "Maria Souza"]
    assert _count(db, Conversation) == 2


def test_a_message_from_a_known_contact_reuses_the_open_conversation(db, deliver, whatsapp_payload):
    contact = factories.contact(phone="+5521998765432", name="Maria (cliente VIP)")
    conversation = factories.conversation(contact, status=ConversationStatus.active, last_inbound_at=SENT_AT - timedelta(hours=1))
    db.session.commit()
    deliver(whatsapp_payload("text"))
    assert _count(db, Conversation) == 1
    assert db.session.scalar(select(Message.conversation_id)) == conversation.id
    db.session.refresh(contact)
    assert contact.name == "Maria (cliente VIP)"  # a name an agent typed is kept
    db.session.refresh(conversation)
    assert conversation.last_inbound_at == SENT_AT


def test_a_contact_whose_conversations_are_closed_gets_a_new_one(db, deliver, whatsapp_payload):
    contact = factories.contact(phone="+5521998765432")
    closed = factories.conversation(contact, status=ConversationStatus.closed)
    db.session.commit()
    deliver(whatsapp_payload("text"))
    conversation = db.session.scalar(select(Conversation).where(Conversation.id != closed.id))
    assert conversation.status == ConversationStatus.new and conversation.contact_id == contact.id


def test_a_brazilian_wa_id_without_the_ninth_digit_matches_the_stored_contact(db, deliver, whatsapp_payload):
    contact = factories.contact(phone="+5521998765432")
    db.session.commit()
    payload = whatsapp_payload("text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = "552198765432"
    deliver(payload)
    assert _count(db, Contact) == 1
    db.session.refresh(contact)
    assert contact.wa_id == "552198765432"  # replies go to the id WhatsApp knows
    assert db.session.scalar(select(Message.conversation_id)) is not None


def test_last_inbound_at_never_moves_backwards(db, deliver, whatsapp_payload):
    later = whatsapp_payload("text")
    later["entry"][0]["changes"][0]["value"]["messages"][0].update(id="wamid.LATER", timestamp="1732525200")
    deliver(later, whatsapp_payload("image"))
    conversation = db.session.scalar(select(Conversation))
    assert conversation.last_inbound_at == datetime(2024, 11, 25, 9, 0, 0)
    assert conversation.last_message_at == datetime(2024, 11, 25, 9, 0, 0)


def test_message_created_is_emitted_once_per_new_message(db, deliver, whatsapp_payload):
    seen = []

    def record(name, message):
        seen.append(message.external_id)

    events.subscribe("message.created")(record)
    try:
        deliver(whatsapp_payload("text"), whatsapp_payload("text"))
    finally:
        events._handlers["message.created"].remove(record)
    assert seen == ["wamid.HBgNNTUyMTk5ODc2NTQzMhUCABIYFjNFQjATEXT01"]


def test_a_message_without_a_sender_fails_the_event_with_a_reason_and_stores_nothing(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("text")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    [event] = deliver(payload)
    assert event.status == WebhookStatus.failed
    assert "no sender WhatsApp id" in event.error
    assert _count(db, Message) == 0 and _count(db, Contact) == 0


def test_one_bad_message_in_a_batch_leaves_none_of_the_batch(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("text")
    bad = whatsapp_payload("image")["entry"][0]["changes"][0]["value"]["messages"][0]
    bad["from"] = "12"
    payload["entry"][0]["changes"][0]["value"]["messages"].append(bad)
    [event] = deliver(payload)
    assert event.status == WebhookStatus.failed and "not a phone number" in event.error
    assert _count(db, Message) == 0 and _count(db, Conversation) == 0


def test_other_fields_are_marked_processed_without_changes(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("template_status_update")
    payload["entry"][0]["changes"][0] = {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed and event.error is None
    assert _count(db, Message) == 0


def test_errors_about_our_number_are_noted_on_a_processed_event(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("text")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["messages"], value["contacts"]
    value["errors"] = [{"code": 131042, "title": "Business eligibility payment issue"}]
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed
    assert event.error == "WhatsApp reported a problem with the number (code 131042): Business eligibility payment issue"


@pytest.mark.parametrize(
    ("message_type", "content", "body"),
    [
        ("system", {"body": "Maria's security code changed", "identity": "9a1b", "type": "user_identity_changed"},
         "Maria's security code changed"),
        ("order", {"catalog_id": "1", "product_items": []}, ""),
        ("poll", {"question": "?"}, ""),
    ],
)
def test_other_system_notices_orders_and_unknown_types_are_kept_with_their_object(
    db, deliver, whatsapp_payload, message_type, content, body
):
    payload = whatsapp_payload("text")
    raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del raw["text"]
    raw.update(type=message_type, **{message_type: content})
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed, event.error
    message = db.session.scalar(select(Message))
    assert (message.message_type, message.body, message.payload_json) == (message_type, body, content)
