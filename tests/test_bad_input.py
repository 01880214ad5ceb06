"""Bad input gets a 4xx, never a 500 (issue 13 item 7): the cases the red-team probe found.
tests/test_hostile_routes.py walks every route with the same kinds of values."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.models import ConversationStatus, Role
from tests import factories
from tests.api_support import api_as
from tests.test_crm_inbound import SECRET, signed_post, upsert

HUGE = str(10**25)


@pytest.mark.parametrize("url", [f"/contacts/{HUGE}", f"/conversations/{HUGE}", f"/media/{HUGE}", f"/api/v1/contacts/{HUGE}"])
def test_an_id_no_row_can_have_is_404(client, login_as, url):
    login_as(Role.admin)
    assert client.get(url).status_code in (401, 404)  # the API answers 401 to a session: it needs a token


@pytest.mark.parametrize("url", ["/contacts", "/admin/audit", "/crm/deliveries"])
def test_a_page_number_beyond_any_list_is_404_and_junk_is_page_1(client, login_as, url):
    login_as(Role.admin)
    assert client.get(url, query_string={"page": HUGE}).status_code == 404
    assert client.get(url, query_string={"page": "abc"}).status_code == 200


def test_an_unknown_status_filter_on_webhook_events_is_ignored(client, login_as):
    login_as(Role.admin)
    assert client.get("/admin/webhook-events", query_string={"status": "bogus"}).status_code == 200


def test_merge_with_a_contact_id_no_row_can_have_is_a_field_error(client, login_as, db):
    login_as(Role.supervisor)
    contact = factories.contact()
    db.session.commit()
    response = client.post(f"/contacts/{contact.id}/merge", data={"other_id": HUGE})
    assert response.status_code == 200 and "There is nothing with this number." in response.get_data(as_text=True)


def test_incident_form_with_a_conversation_id_no_row_can_have_is_a_field_error(client, login_as):
    login_as(Role.supervisor)
    response = client.post("/incidents/new", data={"conversation_id": HUGE, "severity": "high", "notes": "x"})
    assert response.status_code == 200 and "There is nothing with this number." in response.get_data(as_text=True)


def test_request_arguments_are_not_passed_into_url_for(client, login_as, db):
    login_as(Role.agent)
    conversation = factories.conversation(status=ConversationStatus.active)
    db.session.commit()
    response = client.get(
        f"/conversations/{conversation.id}/composer", query_string={"conversation_id": "2", "_external": "1"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/conversations/{conversation.id}"


@pytest.mark.parametrize("assignee", [HUGE, "\u00b2", "nobody"])
def test_an_assignee_that_names_no_agent_is_a_400(client, login_as, db, assignee):
    login_as(Role.supervisor)
    conversation = factories.conversation(status=ConversationStatus.active)
    db.session.commit()
    response = client.post(f"/conversations/{conversation.id}/assignee", data={"assignee": assignee})
    assert response.status_code == 400


@pytest.mark.parametrize("timestamp", ["\u00b2", "1" * 5000, "-5", " 1"])
def test_the_crm_webhook_refuses_malformed_timestamps_with_401(app, client, db, monkeypatch, timestamp):
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", SECRET)
    assert signed_post(client, upsert(phone="+5511987654321"), timestamp=timestamp).status_code == 401


@pytest.mark.parametrize("url", ["/login", "/contacts/1/edit", "/contacts/1/merge", "/contacts/import/confirm"])
def test_the_csrf_error_page_renders_for_anonymous_users(app, client, monkeypatch, url):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(url, data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert "The request could not be understood." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [("nota\r\nSet-Cookie: x=1.pdf", "application/pdf"), ("nota.pdf", "application/pdf\r\nSet-Cookie: x=1")],
)
def test_cr_lf_in_a_stored_media_filename_or_type_never_reaches_a_header(app, client, login_as, db, filename, mime_type):
    login_as(Role.supervisor)
    message = factories.message(factories.conversation(), message_type="document")
    message.media_url, message.media_filename, message.media_mime_type = "1/doc.pdf", filename, mime_type
    db.session.commit()
    stored = Path(app.config["MEDIA_ROOT"]) / "1" / "doc.pdf"
    stored.parent.mkdir(exist_ok=True)
    stored.write_bytes(b"%PDF-1.4")
    response = client.get(f"/media/{message.id}")
    assert response.status_code == 200 and response.data == b"%PDF-1.4"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Content-Type"] in ("application/pdf", "application/octet-stream")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_api_id_beyond_a_bigint_is_404_for_every_method(client, db, method):
    _agent, api = api_as(client, Role.supervisor)
    assert api.open(f"/api/v1/contacts/{2**63}", method, json={}).status_code == 404


def test_list_links_carry_only_the_lists_own_filters(client, login_as, db):
    """Request arguments never reach url_for as they came: `_external`/`_scheme` would point
    the page links elsewhere."""
    from portal.services import audit

    admin = login_as(Role.admin)
    for _ in range(60):
        audit.record("contact.updated", actor=admin, target=("contacts", 1))
    db.session.commit()
    hostile = {"action": "contact.updated", "_external": "1", "_scheme": "javascript", "_anchor": "x"}
    html = client.get("/admin/audit", query_string=hostile).get_data(as_text=True)
    assert 'href="/admin/audit?action=contact.updated&amp;page=2"' in html
    assert "javascript" not in html and "_external" not in html
