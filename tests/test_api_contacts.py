"""/api/v1/contacts: the same validation and uniqueness as the portal, as JSON."""

import pytest

from portal.models import AuditLog, Contact, Role
from portal.services import events
from tests import factories
from tests.api_support import api_as

CONTACT_EVENTS = ("contact.created", "contact.updated")


@pytest.fixture
def contact_events():
    """(event name, contact id) of every contact event emitted during the test."""
    seen: list[tuple[str, int]] = []

    def record(name, **data):
        seen.append((name, data["contact"].id))

    events.subscribe(*CONTACT_EVENTS)(record)
    yield seen
    for name in CONTACT_EVENTS:
        events._handlers[name].remove(record)  # events has no unsubscribe: only tests need one


def test_creating_a_contact_normalizes_the_phone_and_emits_contact_created(client, db, contact_events):
    agent, api = api_as(client)
    response = api.post(
        "/api/v1/contacts",
        json={"name": "Maria Souza", "phone": "(11) 98765-4321", "email": "Maria@Example.com", "city": "Santos"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["phone"] == "+5511987654321"
    assert body["email"] == "Maria@example.com"
    assert response.headers["Location"].endswith(f"/api/v1/contacts/{body['id']}")
    assert contact_events == [("contact.created", body["id"])]
    assert db.session.query(AuditLog).filter_by(action="contact.created", actor_id=agent.id).count() == 1


def test_invalid_fields_answer_422_with_every_field_error(client, db):
    _agent, api = api_as(client)
    response = api.post("/api/v1/contacts", json={"name": "", "phone": "123", "email": "not-an-email"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"name", "phone", "email"}
    response = api.post("/api/v1/contacts", json={"phone": 5511987654321})
    assert set(response.get_json()["error"]["fields"]) == {"name", "phone"}
    assert db.session.query(Contact).count() == 0


def test_a_body_that_is_not_a_json_object_is_a_400(client, db):
    _agent, api = api_as(client)
    assert api.post("/api/v1/contacts", data="name=x").status_code == 400
    assert api.post("/api/v1/contacts", json=["x"]).status_code == 400


def test_a_phone_already_on_file_with_or_without_the_ninth_digit_is_a_409(client, db):
    existing = factories.contact(phone="+5511987654321")
    _agent, api = api_as(client)
    response = api.post("/api/v1/contacts", json={"name": "Twin", "phone": "+55 11 8765-4321"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate_phone"
    assert str(existing.id) in response.get_json()["error"]["message"]
    other = factories.contact()
    response = api.patch(f"/api/v1/contacts/{other.id}", json={"phone": "11987654321"})
    assert response.status_code == 409


def test_search_finds_by_name_phone_in_any_format_email_and_city(client, db):
    ana = factories.contact(name="Ana Lima", phone="+5511987650001", email="ana@lima.com", city="Recife")
    factories.contact(name="Bruno", phone="+5521987650002", city="Rio")
    _agent, api = api_as(client)

    def ids(q):
        return [c["id"] for c in api.get("/api/v1/contacts", query_string={"q": q}).get_json()["data"]]

    assert ids("ana") == [ana.id]
    assert ids("(11) 98765-0001") == [ana.id]
    assert ids("lima.com") == [ana.id]
    assert ids("recife") == [ana.id]


def test_lists_page_with_a_cursor_without_repeats_or_gaps(client, db):
    created = [factories.contact().id for _ in range(5)]
    _agent, api = api_as(client)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/contacts", query_string=params).get_json()
        assert len(page["data"]) <= 2
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created


def test_bad_paging_parameters_are_422(client, db):
    _agent, api = api_as(client)
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "garbage!"}, {"cursor": "WzEsMl0"}):
        response = api.get("/api/v1/contacts", query_string=params)
        assert response.status_code == 422, params
        assert set(response.get_json()["error"]["fields"]) <= {"limit", "cursor"}


def test_patch_changes_only_the_fields_sent_and_emits_contact_updated(client, db, contact_events):
    contact = factories.contact(name="Old", city="Recife", email="a@b.com")
    _agent, api = api_as(client)
    response = api.patch(f"/api/v1/contacts/{contact.id}", json={"name": "New", "email": None})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["city"], body["email"]) == ("New", "Recife", None)
    assert contact_events == [("contact.updated", contact.id)]


def test_get_and_patch_an_unknown_contact_is_404(client, db):
    _agent, api = api_as(client)
    assert api.get("/api/v1/contacts/999").status_code == 404
    assert api.patch("/api/v1/contacts/999", json={"name": "x"}).status_code == 404
    assert api.get(f"/api/v1/contacts/{2**70}").status_code == 404


def test_only_supervisors_delete_contacts_and_never_one_with_conversations(client, db):
    lonely_id = factories.contact().id
    busy = factories.contact()
    factories.conversation(busy)
    _agent, agent_api = api_as(client, Role.agent)
    assert agent_api.delete(f"/api/v1/contacts/{lonely_id}").status_code == 403
    _supervisor, supervisor_api = api_as(client, Role.supervisor)
    response = supervisor_api.delete(f"/api/v1/contacts/{busy.id}")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "contact_in_use"
    assert supervisor_api.delete(f"/api/v1/contacts/{lonely_id}").status_code == 204
    assert db.session.get(Contact, lonely_id) is None
    assert db.session.get(Contact, busy.id) is not None
    assert db.session.query(AuditLog).filter_by(action="contact.deleted").count() == 1


def test_nul_characters_are_refused_before_reaching_the_database(client, db):
    _agent, api = api_as(client)
    response = api.get("/api/v1/contacts", query_string={"q": "a\x00b"})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"q"}
    response = api.post("/api/v1/contacts", json={"name": "Ana\x00", "phone": "+5511987654321"})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"name"}
    assert db.session.query(Contact).count() == 0
