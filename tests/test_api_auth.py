"""Who may call the API: a live bearer token only, never a browser session."""

from datetime import timedelta

from portal.models import ApiToken, AuditLog, Role, utcnow
from portal.services import api_tokens
from tests import factories
from tests.api_support import ApiClient, api_as


def _error(response) -> dict:
    return response.get_json()["error"]


def test_a_valid_token_authenticates_as_its_agent(client, db):
    _agent, api = api_as(client, Role.agent)
    response = api.get("/api/v1/contacts")
    assert response.status_code == 200
    assert response.get_json() == {"data": [], "next_cursor": None}


def test_missing_token_is_a_json_401_with_a_bearer_challenge(client, db):
    response = ApiClient(client).get("/api/v1/contacts")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_malformed_tokens_are_refused(client, db):
    api_as(client)
    for header in ("Bearer atd_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "atd_x"):
        response = ApiClient(client, {"Authorization": header}).get("/api/v1/contacts")
        assert response.status_code == 401, header
        assert _error(response)["code"] == "unauthorized"


def test_a_revoked_token_stops_working(client, db):
    agent, api = api_as(client)
    assert api.get("/api/v1/contacts").status_code == 200
    token = db.session.query(ApiToken).filter_by(agent_id=agent.id).one()
    api_tokens.revoke(token, by=agent)
    assert api.get("/api/v1/contacts").status_code == 401


def test_a_deactivated_agents_token_stops_working(client, db):
    agent, api = api_as(client)
    assert api.get("/api/v1/contacts").status_code == 200
    agent.active = False
    assert api.get("/api/v1/contacts").status_code == 401


def test_a_browser_session_alone_does_not_authenticate_the_api(client, db, login_as):
    login_as(Role.admin)
    browser = ApiClient(client)
    assert browser.get("/").status_code in (200, 302)  # the session works for the portal
    response = browser.get("/api/v1/contacts")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert browser.post("/api/v1/tags", json={"name": "vip"}).status_code == 401


def test_tokens_are_stored_hashed_with_a_display_prefix(db):
    agent = factories.agent()
    token, plaintext = api_tokens.create(agent, "CRM sync")
    db.session.commit()
    assert plaintext.startswith("atd_") and len(plaintext) > 40
    assert token.token_hash == api_tokens.hash_token(plaintext) != plaintext
    assert plaintext.startswith(token.prefix) and len(token.prefix) == 12
    assert db.session.query(AuditLog).filter_by(action="api_token.created", actor_id=agent.id).count() == 1


def test_last_used_is_recorded_at_most_once_a_minute(client, db):
    agent, api = api_as(client)
    token = db.session.query(ApiToken).filter_by(agent_id=agent.id).one()
    assert token.last_used_at is None
    api.get("/api/v1/tags")
    first_use = token.last_used_at
    assert first_use is not None
    api.get("/api/v1/tags")
    assert token.last_used_at == first_use
    token.last_used_at = first_use - timedelta(minutes=2)
    api.get("/api/v1/tags")
    assert token.last_used_at >= first_use
    assert token.last_used_at <= utcnow()


def test_an_agent_cannot_revoke_someone_elses_token(db):
    owner, other = factories.agent(), factories.agent()
    token, _plaintext = api_tokens.create(owner, "mine")
    try:
        api_tokens.revoke(token, by=other)
    except api_tokens.TokenError:
        pass
    else:
        raise AssertionError("revoking another agent's token must be refused")
    assert token.revoked_at is None


def test_the_openapi_document_is_public(client, db):
    response = ApiClient(client).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_unknown_api_paths_and_methods_answer_json(client, db):
    _agent, api = api_as(client)
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and "error" in response.get_json()
    response = api.open("/api/v1/tags", "PUT", json={})
    assert response.status_code == 405 and "error" in response.get_json()


def test_a_token_in_the_query_string_is_not_accepted(client, db):
    _agent, api = api_as(client)
    plaintext = api.headers["Authorization"].removeprefix("Bearer ")
    assert ApiClient(client).get(f"/api/v1/tags?access_token={plaintext}").status_code == 401
