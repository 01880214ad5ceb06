"""Writing first (issue 18, part 1): a new conversation from a contact's page, from the inbox and
from POST /api/v1/conversations. Outside the 24-hour window only an approved template opens it, and
the page says so before anything is typed."""

from datetime import timedelta

from portal.extensions import db as _db
from portal.models import Contact, Conversation, Message, MessageStatus, MessageTemplate, Role, utcnow
from portal.queue import OUTBOUND
from tests import factories
from tests.api_support import api_as


def _template(body="Olá, {{1}}! Seu pedido {{2}} chegou.", key="pedido_chegou"):
    template = MessageTemplate(template_key=key, language="pt_BR", body=body)
    _db.session.add(template)
    _db.session.flush()
    return template


def test_the_contact_page_and_the_inbox_link_to_a_new_conversation(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact(name="Joana Prado")
    db.session.commit()
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert f"/conversations/new?contact_id={contact.id}" in page
    assert 'id="new-conversation"' in client.get("/inbox").get_data(as_text=True)


def test_the_page_says_only_a_template_can_open_it_before_the_agent_types(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact(name="Joana Prado")
    template = _template()
    db.session.commit()
    page = client.get(f"/conversations/new?contact_id={contact.id}").get_data(as_text=True)
    assert "only a template can start the conversation" in page
    assert 'name="body"' not in page
    assert "pedido_chegou" in page
    page = client.get(f"/conversations/new?contact_id={contact.id}&template_id={template.id}").get_data(as_text=True)
    assert page.count('name="params"') == 2


def test_a_template_opens_a_conversation_assigned_to_the_agent_and_is_sent(
    client, db, login_as, run_jobs, graph_simulator
):
    agent = login_as(Role.agent)
    contact = factories.contact(name="Joana Prado")
    template = _template()
    db.session.commit()
    inbox_id = factories.default_inbox().id
    response = client.post(
        "/conversations/new",
        data={"contact_id": contact.id, "inbox_id": inbox_id, "template_id": template.id, "params": ["Joana", "123"]},
    )
    assert response.status_code == 302
    conversation = db.session.query(Conversation).one()
    assert response.headers["Location"].endswith(f"/conversations/{conversation.id}")
    assert conversation.assigned_to == agent.id and conversation.contact_id == contact.id
    message = db.session.query(Message).one()
    assert message.body == "Olá, Joana! Seu pedido 123 chegou." and message.status == MessageStatus.queued
    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["type"] == "template" and sent["to"] == contact.wa_id


def test_a_phone_in_any_format_creates_the_contact(client, db, login_as):
    login_as(Role.agent)
    template = _template(body="Olá!", key="ola")
    db.session.commit()
    page = client.get("/conversations/new?who=(11) 98765-4321").get_data(as_text=True)
    assert "a contact is created when you send" in page
    response = client.post(
        "/conversations/new",
        data={"who": "(11) 98765-4321", "name": "Nova Cliente", "inbox_id": factories.default_inbox().id,
              "template_id": template.id},
    )
    assert response.status_code == 302
    contact = db.session.query(Contact).one()
    assert (contact.name, contact.phone) == ("Nova Cliente", "+5511987654321")


def test_a_name_lists_the_matching_contacts(client, db, login_as):
    login_as(Role.agent)
    factories.contact(name="Joana Prado")
    factories.contact(name="Pedro Lima")
    db.session.commit()
    page = client.get("/conversations/new?who=joana").get_data(as_text=True)
    assert "Joana Prado" in page and "Pedro Lima" not in page


def test_free_text_is_refused_outside_the_window_and_nothing_is_created(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact()
    db.session.commit()
    response = client.post(
        "/conversations/new", data={"contact_id": contact.id, "inbox_id": factories.default_inbox().id, "body": "Oi"}
    )
    assert response.status_code == 422
    assert "only a template can start the conversation" in response.get_data(as_text=True)
    assert db.session.query(Conversation).count() == 0


def test_an_open_conversation_inside_the_window_takes_free_text(client, db, login_as):
    agent = login_as(Role.agent)
    conversation = factories.conversation(assigned_to=None)
    db.session.commit()
    url = f"/conversations/new?contact_id={conversation.contact_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="body"' in page and f"#{conversation.id}" in page
    response = client.post(
        "/conversations/new",
        data={"contact_id": conversation.contact_id, "inbox_id": conversation.inbox_id, "body": "Oi de novo"},
    )
    assert response.status_code == 302
    assert db.session.query(Conversation).count() == 1
    assert db.session.query(Message).one().sender_agent_id == agent.id


def test_unmapped_template_parameters_are_refused(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact()
    template = _template()
    db.session.commit()
    response = client.post(
        "/conversations/new",
        data={"contact_id": contact.id, "inbox_id": factories.default_inbox().id, "template_id": template.id,
              "params": ["Joana", ""]},
    )
    assert response.status_code == 422
    assert "needs 2 filled-in parameters" in response.get_data(as_text=True)
    assert db.session.query(Message).count() == 0


def test_an_agent_cannot_write_from_an_inbox_they_do_not_work(client, db, login_as):
    login_as(Role.agent)
    other = factories.inbox(name="Vendas")
    contact = factories.contact()
    template = _template(body="Olá!", key="ola")
    db.session.commit()
    response = client.post(
        "/conversations/new", data={"contact_id": contact.id, "inbox_id": other.id, "template_id": template.id}
    )
    assert response.status_code == 422 and "Choose one of your inboxes" in response.get_data(as_text=True)


def test_the_api_starts_a_conversation_with_a_template(client, db, run_jobs, graph_simulator):
    agent, api = api_as(client, Role.agent)
    template = _template()
    inbox_id = factories.default_inbox().id
    response = api.post(
        "/api/v1/conversations",
        json={"inbox_id": inbox_id, "contact": {"phone": "+55 11 91234-5678", "name": "Ana"},
              "template_id": template.id, "params": ["Ana", "77"]},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["conversation"]["contact"]["phone"] == "+5511912345678"
    assert body["conversation"]["assigned_to"] == agent.id
    assert body["message"]["status"] == "queued" and body["message"]["body"] == "Olá, Ana! Seu pedido 77 chegou."
    assert response.headers["Location"].endswith(f"/api/v1/conversations/{body['conversation']['id']}")
    run_jobs(OUTBOUND)
    assert len(graph_simulator.sends()) == 1


def test_the_api_refuses_free_text_outside_the_window_and_bad_bodies(client, db):
    _agent, api = api_as(client, Role.agent)
    contact = factories.contact()
    inbox_id = factories.default_inbox().id
    response = api.post("/api/v1/conversations", json={"inbox_id": inbox_id, "contact_id": contact.id, "body": "Oi"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "cannot_send"
    response = api.post("/api/v1/conversations", json={"inbox_id": inbox_id})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"contact_id", "body"}
    assert db.session.query(Conversation).count() == 0


def test_the_api_takes_free_text_inside_the_window(client, db):
    _agent, api = api_as(client, Role.agent)
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=2))
    response = api.post(
        "/api/v1/conversations",
        json={"inbox_id": conversation.inbox_id, "contact_id": conversation.contact_id, "body": "Oi"},
    )
    assert response.status_code == 201
    assert response.get_json()["conversation"]["id"] == conversation.id
