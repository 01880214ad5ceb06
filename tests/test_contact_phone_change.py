"""Changing a contact's phone: only someone who may see every open conversation of that contact
(or a supervisor) may do it, it is audited, and it never re-points an open conversation: replies
keep going to the WhatsApp id WhatsApp gave us (the red-team probe's conversation hijack)."""

from __future__ import annotations

from portal.extensions import db
from portal.models import AuditLog, ConversationStatus, Role
from portal.services import contact_admin, conversations
from tests import factories
from tests.api_support import api_as

CUSTOMER = "+5511987650001"
ATTACKER = "+5511987659999"


def _contact_in_someone_elses_conversation():
    owner = factories.agent(name="Owner")
    contact = factories.contact(name="Customer", phone=CUSTOMER)
    conversation = factories.conversation(contact, status=ConversationStatus.active, assigned_to=owner.id)
    return contact, conversation


def test_agent_cannot_repoint_others_conversation_through_the_contact_form(client, login_as):
    login_as(Role.agent)
    contact, _conversation = _contact_in_someone_elses_conversation()
    db.session.commit()
    response = client.post(
        f"/contacts/{contact.id}/edit", data={"name": "Customer", "phone": ATTACKER, "email": "", "city": ""}
    )
    assert response.status_code == 403
    db.session.refresh(contact)
    assert (contact.phone, contact.wa_id) == (CUSTOMER, CUSTOMER.lstrip("+"))


def test_agent_cannot_repoint_others_conversation_through_the_api(client, db):
    contact, _conversation = _contact_in_someone_elses_conversation()
    _agent, api = api_as(client, Role.agent)
    response = api.patch(f"/api/v1/contacts/{contact.id}", json={"phone": ATTACKER})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    db.session.refresh(contact)
    assert (contact.phone, contact.wa_id) == (CUSTOMER, CUSTOMER.lstrip("+"))


def test_the_form_shows_the_phone_read_only_to_an_agent_who_may_not_change_it(client, login_as):
    login_as(Role.agent)
    contact, _conversation = _contact_in_someone_elses_conversation()
    db.session.commit()
    html = client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    assert 'name="phone"' in html and "readonly" in html
    assert "Only a supervisor" in html


def test_agent_still_edits_the_other_fields_of_such_a_contact(client, login_as):
    login_as(Role.agent)
    contact, _conversation = _contact_in_someone_elses_conversation()
    db.session.commit()
    response = client.post(
        f"/contacts/{contact.id}/edit", data={"name": "Customer Lima", "phone": CUSTOMER, "email": "", "city": "Rio"}
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert (contact.name, contact.city, contact.phone) == ("Customer Lima", "Rio", CUSTOMER)


def test_a_supervisor_changes_the_phone_but_the_open_conversation_keeps_whatsapps_id(client, login_as):
    supervisor = login_as(Role.supervisor)
    contact, conversation = _contact_in_someone_elses_conversation()
    db.session.commit()
    response = client.post(
        f"/contacts/{contact.id}/edit", data={"name": "Customer", "phone": ATTACKER, "email": "", "city": ""}
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert contact.phone == ATTACKER
    assert contact.wa_id == CUSTOMER.lstrip("+")  # replies in the open conversation still go to the customer
    entry = db.session.query(AuditLog).filter_by(action="contact.phone_changed").one()
    assert entry.actor_id == supervisor.id and entry.details["open_conversations"] == [conversation.id]
    assert CUSTOMER not in str(entry.details) and ATTACKER not in str(entry.details)


def test_once_no_conversation_is_open_the_new_phone_is_used_until_whatsapp_reports_an_id(db):
    supervisor = factories.agent(role=Role.supervisor)
    contact, conversation = _contact_in_someone_elses_conversation()
    contact_admin.update(contact, by=supervisor, phone=ATTACKER)
    assert contact.wa_id == CUSTOMER.lstrip("+")
    conversations.change_status(conversation, ConversationStatus.closed, by=supervisor)
    assert contact.wa_id is None  # the next send goes to the edited phone


def test_a_phone_change_with_no_open_conversation_clears_the_stale_whatsapp_id(db):
    agent = factories.agent()
    contact = factories.contact(phone=CUSTOMER)
    factories.conversation(contact, status=ConversationStatus.closed)
    contact_admin.update(contact, by=agent, phone=ATTACKER)
    assert (contact.phone, contact.wa_id) == (ATTACKER, None)
    assert db.session.query(AuditLog).filter_by(action="contact.phone_changed").one().actor_id == agent.id


def test_agent_may_change_the_phone_when_every_open_conversation_is_theirs_or_unassigned(db):
    agent = factories.agent()
    contact = factories.contact(phone=CUSTOMER)
    factories.conversation(contact, status=ConversationStatus.active, assigned_to=agent.id)
    assert contact_admin.may_change_phone(agent, contact)
    contact_admin.update(contact, by=agent, phone=ATTACKER)
    assert contact.phone == ATTACKER
