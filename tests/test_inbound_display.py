"""Inbound WhatsApp notifications shown for what they are, from payloads shaped like Meta's:
reactions on the message they react to, the ad a conversation came from, a customer's number
change, template review statuses, unsupported messages with WhatsApp's error, orders, edits,
deletions and locations (docs/whatsapp-inbound.md)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import (
    AuditLog,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageTemplate,
    Role,
    TemplateStatus,
    WebhookStatus,
)
from portal.services import events, inbox_queries, read_state
from tests import factories

SENT_AT = datetime(2024, 11, 25, 8, 0, 0)  # the fixtures' timestamp 1732521600, in UTC
OURS = "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND01"  # the outbound message the fixtures name
CUSTOMERS = "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABIYFjNFQjATEXT01"  # text.json's message


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _message(value: dict) -> dict:
    return value["entry"][0]["changes"][0]["value"]["messages"][0]


@pytest.fixture
def our_message(db):
    """A reply of ours the customer can react to, in an answered conversation of Maria's."""
    contact = factories.contact(phone="+5521998765432", name="Maria Souza")
    conversation = factories.conversation(
        contact, status=ConversationStatus.active, last_inbound_at=SENT_AT, last_message_at=SENT_AT
    )
    message = factories.message(
        conversation, Direction.outbound, body="Entregamos, sim!", external_id=OURS, sent_at=SENT_AT
    )
    db.session.commit()
    return message


def _thread(client, conversation_id: int) -> str:
    response = client.get(f"/conversations/{conversation_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- reactions --------------------------------------------------------------------------------


def test_a_reaction_attaches_to_the_message_it_reacts_to_and_adds_no_message(
    db, deliver, whatsapp_payload, our_message
):
    [event] = deliver(whatsapp_payload("reaction"))
    assert event.status == WebhookStatus.processed and event.error is None
    assert _count(db, Message) == 1
    assert (our_message.reaction_emoji, our_message.reaction_at) == ("👍", SENT_AT)


def test_a_new_reaction_replaces_the_old_one_and_an_empty_one_removes_it(
    db, deliver, whatsapp_payload, our_message
):
    heart = whatsapp_payload("reaction")
    _message(heart).update(id="wamid.HEART", timestamp="1732521660", reaction={"message_id": OURS, "emoji": "❤️"})
    deliver(whatsapp_payload("reaction"), heart)
    assert our_message.reaction_emoji == "❤️"
    deliver(whatsapp_payload("reaction_removed"))
    assert our_message.reaction_emoji is None and _count(db, Message) == 1


def test_a_late_redelivery_of_an_older_reaction_does_not_undo_a_newer_one(
    db, deliver, whatsapp_payload, our_message
):
    deliver(whatsapp_payload("reaction_removed"), whatsapp_payload("reaction"))
    assert our_message.reaction_emoji is None


def test_a_reaction_is_not_a_message_needing_an_answer(db, deliver, whatsapp_payload, our_message, monkeypatch):
    """No unread count, no new activity in the inbox order, no new 24-hour window, no SLA wait,
    no message.created (so no auto-rule and no CRM message)."""
    created = []
    monkeypatch.setattr(events, "_handlers", {"message.created": [lambda name, **data: created.append(data)]})
    conversation = our_message.conversation
    deliver(whatsapp_payload("reaction"))
    assert created == []
    assert read_state.unread_counts(factories.agent(), [conversation.id]) == {}
    assert (conversation.last_inbound_at, conversation.last_message_at) == (SENT_AT, SENT_AT)
    assert conversation.status == ConversationStatus.active
    assert inbox_queries.waiting_since([conversation]) == {}


def test_a_reaction_to_a_message_we_do_not_hold_is_noted_on_the_event(db, deliver, whatsapp_payload):
    [event] = deliver(whatsapp_payload("reaction"))
    assert event.status == WebhookStatus.processed
    assert event.error == f"A reaction to message {OURS}, which Atende does not hold, was not shown."
    assert _count(db, Message) == 0 and _count(db, Conversation) == 0


def test_the_thread_shows_the_reaction_on_its_bubble_and_no_reaction_bubble(
    client, db, login_as, deliver, whatsapp_payload, our_message
):
    login_as(Role.agent)
    deliver(whatsapp_payload("reaction"))
    html = _thread(client, our_message.conversation_id)
    bubble = html.split(f'id="message-{our_message.id}"')[1].split("</li>")[0]
    assert 'class="reaction"' in bubble and "👍" in bubble
    assert "[reaction]" not in html


def test_the_open_thread_poll_sees_a_new_reaction(client, db, login_as, deliver, whatsapp_payload, our_message):
    before = inbox_queries.thread_version(our_message.conversation)
    deliver(whatsapp_payload("reaction"))
    assert inbox_queries.thread_version(our_message.conversation) != before


# --- click-to-WhatsApp referral ---------------------------------------------------------------


def test_an_ad_referral_is_stored_on_the_conversation(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("text_from_ad")
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed, event.error
    conversation = db.session.scalar(select(Conversation))
    assert conversation.referral == _message(payload)["referral"]


def test_the_first_referral_of_a_conversation_is_kept(db, deliver, whatsapp_payload):
    later = whatsapp_payload("text_from_ad")
    _message(later).update(id="wamid.LATER", timestamp="1732525200")
    _message(later)["referral"]["headline"] = "Outra campanha"
    deliver(whatsapp_payload("text_from_ad"), later)
    assert db.session.scalar(select(Conversation)).referral["headline"] == "Plano Pro com 30 dias grátis"


def test_the_conversation_shows_where_the_customer_came_from(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    deliver(whatsapp_payload("text_from_ad"))
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    for shown in (
        "Came from a click-to-WhatsApp ad",
        "Plano Pro com 30 dias grátis",
        "Atendimento pelo WhatsApp para a sua equipe",
        "120226305854810726",
        '<a href="https://fb.me/3cr4Wqqkv" target="_blank" rel="noopener noreferrer">',
    ):
        assert shown in html, shown


def test_a_referral_url_that_is_no_web_link_is_shown_as_text(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    payload = whatsapp_payload("text_from_ad")
    _message(payload)["referral"]["source_url"] = "javascript:alert(1)"
    deliver(payload)
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    assert "javascript:alert(1)" in html and 'href="javascript' not in html


# --- a customer's number change ---------------------------------------------------------------


def test_a_number_change_moves_the_contact_and_keeps_its_history(db, deliver, whatsapp_payload):
    deliver(whatsapp_payload("text"))
    contact = db.session.scalar(select(Contact))
    [_, event] = deliver(whatsapp_payload("system_user_changed_number"))
    assert event.status == WebhookStatus.processed and event.error is None
    assert (contact.phone, contact.wa_id) == ("+5521991112222", "5521991112222")
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "contact.whatsapp_number_changed"))
    assert audit.target_id == str(contact.id)
    assert audit.details["whatsapp_notice"] == _message(whatsapp_payload("system_user_changed_number"))["id"]
    assert "5521998765432" not in str(audit.details) and "5521991112222" not in str(audit.details)

    from_new_number = whatsapp_payload("text")
    _message(from_new_number).update({"id": "wamid.FROMNEW", "from": "5521991112222", "timestamp": "1732525200"})
    from_new_number["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "5521991112222"
    deliver(from_new_number)
    assert _count(db, Contact) == 1 and _count(db, Conversation) == 1
    conversation = db.session.scalar(select(Conversation))
    assert conversation.contact_id == contact.id and conversation.messages.count() == 2


def test_a_contact_already_on_the_new_number_is_merged_into_the_one_that_moved(db, deliver, whatsapp_payload):
    deliver(whatsapp_payload("text"))
    moved = db.session.scalar(select(Contact))
    early = whatsapp_payload("text")
    _message(early).update({"id": "wamid.EARLY", "from": "5521991112222"})
    early["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "5521991112222"
    deliver(early, whatsapp_payload("system_user_changed_number"))
    assert db.session.scalars(select(Contact.id)).all() == [moved.id]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "contact.whatsapp_number_changed"))
    assert audit.details["merged_contact_id"] is not None
    assert moved.phone == "+5521991112222"
    assert _count(db, Message) == 2
    assert {m.conversation.contact_id for m in db.session.scalars(select(Message))} == {moved.id}


def test_a_redelivered_number_change_changes_nothing_more(db, deliver, whatsapp_payload):
    deliver(whatsapp_payload("text"), whatsapp_payload("system_user_changed_number"))
    [*_, event] = deliver(whatsapp_payload("system_user_changed_number"))
    assert event.status == WebhookStatus.processed and event.error is None
    assert db.session.scalar(select(Contact.phone)) == "+5521991112222"
    assert _count(db, AuditLog) == 1 and _count(db, Message) == 1  # the one number change


def test_a_number_change_for_a_customer_we_never_saw_is_noted(db, deliver, whatsapp_payload):
    [event] = deliver(whatsapp_payload("system_user_changed_number"))
    assert event.status == WebhookStatus.processed
    assert event.error == "A number change for a customer Atende has no contact for changed nothing."
    assert _count(db, Contact) == 0 and _count(db, Message) == 0


# --- template review statuses -----------------------------------------------------------------


@pytest.fixture
def boas_vindas(db):
    template = MessageTemplate(template_key="boas_vindas", language="pt_BR", body="Olá, {{1}}!")
    db.session.add(template)
    db.session.commit()
    return template


def test_a_template_status_update_stores_whatsapps_status_on_the_template(
    db, deliver, whatsapp_payload, boas_vindas
):
    assert boas_vindas.status == TemplateStatus.approved
    [event] = deliver(whatsapp_payload("template_status_paused"))
    assert event.status == WebhookStatus.processed and event.error is None
    assert boas_vindas.status == TemplateStatus.paused
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "template.status_changed"))
    assert (audit.details["old"], audit.details["new"]) == ("approved", "paused")
    deliver(whatsapp_payload("template_status_update"))
    assert boas_vindas.status == TemplateStatus.approved


@pytest.mark.parametrize(
    ("event", "stored"),
    [("REJECTED", "rejected"), ("DISABLED", "disabled"), ("FLAGGED", "flagged"), ("REINSTATED", "approved")],
)
def test_every_review_event_maps_to_a_status(db, deliver, whatsapp_payload, boas_vindas, event, stored):
    boas_vindas.status = TemplateStatus.pending
    db.session.commit()
    payload = whatsapp_payload("template_status_update")
    payload["entry"][0]["changes"][0]["value"]["event"] = event
    deliver(payload)
    assert boas_vindas.status == stored


def test_a_status_for_a_template_we_do_not_have_is_noted(db, deliver, whatsapp_payload, boas_vindas):
    payload = whatsapp_payload("template_status_paused")
    payload["entry"][0]["changes"][0]["value"]["message_template_language"] = "en_US"
    [event] = deliver(payload)
    assert event.status == WebhookStatus.processed
    assert event.error == (
        "A review status for template boas_vindas (en_US), which Atende does not have, was not applied."
    )
    assert boas_vindas.status == TemplateStatus.approved


def _closed_window_conversation():
    return factories.conversation(last_inbound_at=SENT_AT)


@pytest.mark.parametrize("status", [TemplateStatus.paused, TemplateStatus.disabled, TemplateStatus.rejected])
def test_a_template_whatsapp_stopped_is_not_offered_nor_sent(client, db, login_as, boas_vindas, status):
    login_as(Role.agent)
    other = MessageTemplate(template_key="lembrete", language="pt_BR", body="Ainda precisa de ajuda?")
    db.session.add(other)
    conversation = _closed_window_conversation()
    boas_vindas.status = status
    db.session.commit()
    html = _thread(client, conversation.id)
    assert ">lembrete<" in html and "boas_vindas" not in html
    response = client.post(
        f"/conversations/{conversation.id}/template",
        data={"template_id": boas_vindas.id, "params-0": "Maria"},
        headers={"HX-Request": "true"},
    )
    assert "WhatsApp does not allow the template boas_vindas now" in response.get_data(as_text=True)
    assert conversation.messages.count() == 0


def test_the_templates_page_shows_whatsapps_status(client, db, login_as, boas_vindas):
    login_as(Role.supervisor)
    boas_vindas.status = TemplateStatus.paused
    db.session.commit()
    html = client.get("/templates").get_data(as_text=True)
    assert "WhatsApp status" in html and "Paused" in html


# --- unsupported, order, edit, deletion, location ---------------------------------------------


def test_an_unsupported_message_keeps_whatsapps_error_on_the_row(db, deliver, whatsapp_payload):
    payload = whatsapp_payload("unsupported_poll")
    deliver(payload)
    message = db.session.scalar(select(Message))
    assert (message.error_code, message.error_title) == (131051, "Message type unknown")
    assert message.payload_json == {"type": "poll_creation", "errors": _message(payload)["errors"]}


@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        ("unsupported_poll", "The customer sent a poll, which WhatsApp does not deliver here."),
        ("unsupported_edit", "The customer edited a message; WhatsApp did not send the new text."),
        ("unsupported", "The customer sent a type of message WhatsApp does not deliver here."),
    ],
)
def test_an_unsupported_message_shows_a_readable_line(client, db, login_as, deliver, whatsapp_payload, fixture, line):
    login_as(Role.agent)
    deliver(whatsapp_payload(fixture))
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    assert line in html
    assert "WhatsApp: 131051 · Message type unknown · Message type is currently not supported." in html
    assert "[unsupported]" not in html


def test_an_order_shows_its_items_and_total(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    deliver(whatsapp_payload("order"))
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    assert "Order of 3 items" in html and "Total: R$159.30" in html
    assert "2 × <code>CAMISETA-AZ-M</code> · R$59.90" in html
    assert "Entregar depois das 18h, por favor" in html and "[order]" not in html


def test_an_order_with_odd_prices_still_shows_its_items(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    payload = whatsapp_payload("order")
    items = _message(payload)["order"]["product_items"]
    items[0].update(item_price=1e300, quantity=True)
    items[1].update(item_price="NaN", currency="reais")
    deliver(payload)
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    assert "Order of 2 items" in html and "Total:" not in html
    assert "1 × <code>CAMISETA-AZ-M</code>\n" in html or "1 × <code>CAMISETA-AZ-M</code></li>" in html


def test_an_edit_updates_the_shown_text_and_keeps_the_original_in_the_payload(
    client, db, login_as, deliver, whatsapp_payload
):
    login_as(Role.agent)
    events_ = deliver(whatsapp_payload("text"), whatsapp_payload("edit"))
    assert [e.error for e in events_] == [None, None]
    message = db.session.scalar(select(Message))
    assert _count(db, Message) == 1
    assert message.body == "Bom dia! Vocês entregam em Niterói e em São Gonçalo?"
    assert message.payload_json == {"body": "Bom dia! Vocês entregam em Niterói?"}
    assert message.edited_at == SENT_AT + timedelta(seconds=300)
    html = _thread(client, message.conversation_id)
    assert "Edited by the customer " in html and "[edit]" not in html


def test_a_deleted_message_is_marked_and_kept(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    deliver(whatsapp_payload("text"), whatsapp_payload("revoke"))
    message = db.session.scalar(select(Message))
    assert _count(db, Message) == 1 and message.deleted_at == SENT_AT + timedelta(seconds=300)
    assert message.body == "Bom dia! Vocês entregam em Niterói?"
    html = _thread(client, message.conversation_id)
    assert "The customer deleted this message for everyone " in html and "[revoke]" not in html


def test_an_edit_or_deletion_of_a_message_we_do_not_hold_is_noted(db, deliver, whatsapp_payload):
    events_ = deliver(whatsapp_payload("edit"), whatsapp_payload("revoke"))
    assert [e.error.split(",")[0] for e in events_] == [
        f"An edit of message {CUSTOMERS}",
        f"A deletion of message {CUSTOMERS}",
    ]
    assert _count(db, Message) == 0


def test_a_customer_cannot_edit_or_delete_our_messages(db, deliver, whatsapp_payload, our_message):
    payload = whatsapp_payload("revoke")
    _message(payload)["revoke"]["original_message_id"] = OURS
    [event] = deliver(payload)
    assert event.error.startswith(f"A deletion of message {OURS}") and our_message.deleted_at is None


def test_a_location_links_to_a_map_with_its_name_and_address(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    deliver(whatsapp_payload("location"))
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    assert "<strong>Loja Centro</strong>" in html and "Av. Rio Branco, 156 - Centro, Rio de Janeiro" in html
    assert (
        'href="https://www.openstreetmap.org/?mlat=-22.906800&amp;mlon=-43.172900#map=17/-22.906800/-43.172900"'
        in html
    )


def test_a_location_with_bad_coordinates_gets_no_map_link(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.agent)
    payload = whatsapp_payload("location")
    _message(payload)["location"].update(latitude=123.0, longitude="abc")
    deliver(payload)
    html = _thread(client, db.session.scalar(select(Conversation.id)))
    assert "Loja Centro" in html and "openstreetmap" not in html
