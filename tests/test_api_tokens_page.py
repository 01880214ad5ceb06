"""/profile/tokens: an agent creates tokens (the plaintext shown once) and revokes their own."""

from portal.models import ApiToken, Role
from portal.services import api_tokens
from tests import factories
from tests.api_support import ApiClient, bearer


def test_creating_a_token_shows_the_plaintext_once_and_it_works(client, db, login_as):
    agent = login_as(Role.agent)
    response = client.post("/profile/tokens", data={"name": "CRM sync"})
    assert response.status_code == 200
    token = db.session.query(ApiToken).filter_by(agent_id=agent.id).one()
    page = response.get_data(as_text=True)
    start = page.index(token.prefix)
    plaintext = page[start : page.index('"', start)]
    assert api_tokens.hash_token(plaintext) == token.token_hash
    assert ApiClient(client.application.test_client(), bearer(plaintext)).get("/api/v1/tags").status_code == 200
    again = client.get("/profile/tokens").get_data(as_text=True)
    assert "CRM sync" in again and token.prefix in again and plaintext not in again


def test_a_token_needs_a_name(client, db, login_as):
    login_as(Role.agent)
    response = client.post("/profile/tokens", data={"name": ""})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.query(ApiToken).count() == 0


def test_an_agent_revokes_their_own_token_and_not_anyone_elses(client, db, login_as):
    agent = login_as(Role.agent)
    mine, _ = api_tokens.create(agent, "mine")
    theirs, _ = api_tokens.create(factories.agent(), "theirs")
    db.session.commit()
    assert client.post(f"/profile/tokens/{theirs.id}/revoke").status_code == 404
    assert client.post(f"/profile/tokens/{2**70}/revoke").status_code == 404
    response = client.post(f"/profile/tokens/{mine.id}/revoke")
    assert response.status_code == 302
    db.session.expire_all()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    page = client.get("/profile/tokens").get_data(as_text=True)
    assert f'action="/profile/tokens/{mine.id}/revoke"' not in page


def test_the_page_lists_only_the_agents_own_tokens(client, db, login_as):
    agent = login_as(Role.agent)
    api_tokens.create(agent, "my laptop")
    api_tokens.create(factories.agent(), "someone else's")
    db.session.commit()
    page = client.get("/profile/tokens").get_data(as_text=True)
    assert "my laptop" in page and "someone else" not in page
