"""/contacts: search, pagination, detail with every conversation, editing with validation."""

from __future__ import annotations

from portal.models import AuditLog, ConversationStatus, Role, Tag
from tests import factories


def test_search_finds_by_name_phone_in_any_format_email_and_city(client, login_as, db):
    login_as(Role.agent)
    ana = factories.contact(name="Ana Beatriz", phone="+5511987654321", email="ana@loja.com.br", city="Campinas")
    factories.contact(name="Bruno", phone="+5521912345678", city="Niterói")
    db.session.commit()
    for query in ("beatriz", "(11) 98765-4321", "8765-4321", "11 8765 4321", "ANA@LOJA", "campinas"):
        html = client.get("/contacts", query_string={"q": query}).get_data(as_text=True)
        assert "Ana Beatriz" in html and "Bruno" not in html, query
    html = client.get("/contacts", query_string={"city": "niterói"}).get_data(as_text=True)
    assert "Bruno" in html and "Ana Beatriz" not in html
    assert f"/contacts/{ana.id}" in client.get("/contacts?q=ana").get_data(as_text=True)


def test_htmx_search_answers_only_the_results_fragment(client, login_as, db):
    login_as(Role.agent)
    factories.contact(name="Carla")
    db.session.commit()
    response = client.get("/contacts?q=carla", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "Carla" in html and "<html" not in html and 'role="search"' not in html


def test_contacts_are_paginated(client, login_as, db):
    login_as(Role.agent)
    for n in range(30):
        factories.contact(name=f"Pessoa {n:02d}")
    db.session.commit()
    first = client.get("/contacts").get_data(as_text=True)
    second = client.get("/contacts?page=2").get_data(as_text=True)
    assert "Pessoa 00" in first and "Pessoa 25" not in first and 'rel="next"' in first
    assert "Pessoa 25" in second and "Pessoa 00" not in second and 'rel="prev"' in second
    assert "of 30" in first


def test_detail_lists_every_conversation_with_status_priority_and_tags(client, login_as, db):
    agent = login_as(Role.agent)
    contact = factories.contact(name="Dora")
    closed = factories.conversation(contact, status=ConversationStatus.closed)
    vip = Tag(name="vip")
    closed.tags = [vip]
    someone_else = factories.agent()
    open_one = factories.conversation(contact, status=ConversationStatus.waiting, assigned_to=someone_else.id)
    db.session.commit()
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert f'id="conversation-{closed.id}"' in html and f'id="conversation-{open_one.id}"' in html
    assert "status-closed" in html and "status-waiting" in html and ">vip<" in html
    assert agent.id != someone_else.id


def test_detail_of_a_missing_contact_is_404(client, login_as, db):
    login_as(Role.agent)
    assert client.get("/contacts/999").status_code == 404


def test_agent_edits_a_contact_phone_is_normalized_and_the_edit_audited(client, login_as, db):
    agent = login_as(Role.agent)
    contact = factories.contact(name="Eva", phone="+5511911110000")
    db.session.commit()
    response = client.post(
        f"/contacts/{contact.id}/edit",
        data={"name": "Eva Lima", "phone": "(21) 8765-4321", "email": "Eva@Example.COM", "city": "Rio"},
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert (contact.name, contact.phone, contact.email, contact.city) == (
        "Eva Lima",
        "+5521987654321",
        "Eva@example.com",
        "Rio",
    )
    assert contact.wa_id is None  # sends use the edited phone until WhatsApp reports an id
    entry = db.session.query(AuditLog).filter_by(action="contact.updated").one()
    assert entry.actor_id == agent.id and sorted(entry.details["fields"]) == ["city", "email", "name", "phone"]


def test_edit_errors_are_shown_beside_their_fields_with_200(client, login_as, db):
    login_as(Role.agent)
    factories.contact(name="Dono", phone="+5511987654321")
    contact = factories.contact(name="Fabio", phone="+5511911112222")
    db.session.commit()
    response = client.post(
        f"/contacts/{contact.id}/edit",
        data={"name": "Fabio", "phone": "11 8765-4321", "email": "not-an-email", "city": ""},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="phone-errors"' in html and "Dono" in html  # the ninth-digit twin is a duplicate
    assert 'id="email-errors"' in html
    db.session.refresh(contact)
    assert contact.phone == "+5511911112222"


def test_an_invalid_phone_is_refused(client, login_as, db):
    login_as(Role.agent)
    contact = factories.contact(name="Gil")
    db.session.commit()
    html = client.post(
        f"/contacts/{contact.id}/edit", data={"name": "Gil", "phone": "12345", "email": "", "city": ""}
    ).get_data(as_text=True)
    assert "Not a valid phone number." in html


def test_agents_see_edit_but_not_merge_import_or_export(client, login_as, db):
    login_as(Role.agent)
    contact = factories.contact()
    db.session.commit()
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert f"/contacts/{contact.id}/edit" in html and f"/contacts/{contact.id}/merge" not in html
    assert "/contacts/import" not in client.get("/contacts").get_data(as_text=True)
    assert client.get(f"/contacts/{contact.id}/merge").status_code == 403
