"""Sessions end on the server: signing out voids copies of the session and remember-me cookies;
API tokens end with a password change or a deactivation, for good; the CSRF secret is new at
each sign-in; admins see and revoke anyone's tokens and cannot deactivate themselves."""

from flask import session

from portal.extensions import db as _db
from portal.models import ApiToken, AuditLog, Role
from portal.services import agent_admin, api_tokens
from tests import factories
from tests.api_support import api_as
from tests.conftest import TEST_PASSWORD
from tests.test_profile import OtherBrowser

NEW_PASSWORD = "a-better-password-2026"


def _copy_cookies(source, target, *names: str) -> None:
    for name in names:
        target.client.set_cookie(name, source.get_cookie(name).value)


def _signed_in_with_remember_me(client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    db.session.commit()
    client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD, "remember": "y"})
    return agent


def test_a_copied_session_cookie_stops_working_after_logout(app, client, db):
    _signed_in_with_remember_me(client, db)
    thief = OtherBrowser(app)
    _copy_cookies(client, thief, "session")
    assert thief.get("/profile").status_code == 200

    assert client.post("/logout").status_code == 302
    response = thief.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_copied_remember_cookie_stops_working_after_logout(app, client, db):
    _signed_in_with_remember_me(client, db)
    remember = client.get_cookie("remember_token").value
    thief = OtherBrowser(app)
    thief.client.set_cookie("remember_token", remember)
    assert thief.get("/profile").status_code == 200

    client.post("/logout")
    late_thief = OtherBrowser(app)
    late_thief.client.set_cookie("remember_token", remember)
    assert late_thief.get("/profile").status_code == 302


def test_the_remember_cookie_is_same_site(client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    db.session.commit()
    response = client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD, "remember": "y"})
    remember = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "SameSite=Lax" in remember


def test_the_csrf_secret_is_new_after_sign_in(app, client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    db.session.commit()
    with client:
        client.get("/login")
        from flask_wtf.csrf import generate_csrf

        generate_csrf()
        before = session["csrf_token"]
    with client.session_transaction() as stored:
        stored["csrf_token"] = before
    client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD})
    with client.session_transaction() as stored:
        assert stored.get("csrf_token") != before


def _token_works(api) -> bool:
    return api.get("/api/v1/contacts").status_code == 200


def test_api_tokens_stop_working_when_the_agent_changes_their_password(client, db):
    agent, api = api_as(client)
    assert _token_works(api)
    agent_admin.change_own_password(agent, current_password=TEST_PASSWORD, new_password=NEW_PASSWORD)
    assert not _token_works(api)
    assert _db.session.query(AuditLog).filter_by(action="api_token.revoked_all").count() == 1


def test_api_tokens_stop_working_when_an_admin_resets_the_password(client, db):
    admin = factories.agent(role=Role.admin)
    agent, api = api_as(client)
    agent_admin.reset_password(agent, temporary_password=None, by=admin)
    assert not _token_works(api)


def test_api_tokens_stop_working_when_the_password_is_set_from_a_link(client, db):
    agent, api = api_as(client)
    token = agent_admin.set_password_token(agent)
    agent_admin.set_password_from_link(token, NEW_PASSWORD)
    assert not _token_works(api)


def test_reactivation_does_not_revive_api_tokens(client, db):
    admin = factories.agent(role=Role.admin)
    agent, api = api_as(client)
    agent_admin.deactivate(agent, by=admin)
    agent_admin.reactivate(agent, by=admin)
    assert agent.active
    assert not _token_works(api)


def test_admin_sees_and_revokes_an_agents_tokens_on_the_agent_page(client, db, login_as):
    agent, api = api_as(OtherBrowser(client.application).client)
    token = _db.session.query(ApiToken).filter_by(agent_id=agent.id).one()
    login_as(Role.admin)
    page = client.get(f"/admin/agents/{agent.id}").get_data(as_text=True)
    assert token.name in page and token.prefix in page
    response = client.post(f"/admin/agents/{agent.id}/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert not _token_works(api)
    assert "revoked on" in client.get(f"/admin/agents/{agent.id}").get_data(as_text=True)


def test_an_admin_cannot_revoke_a_token_through_another_agents_page(client, db, login_as):
    owner, other = factories.agent(), factories.agent()
    token, _plaintext = api_tokens.create(owner, "integration")
    login_as(Role.admin)
    assert client.post(f"/admin/agents/{other.id}/tokens/{token.id}/revoke").status_code == 404
    assert token.revoked_at is None


def test_an_admin_cannot_deactivate_their_own_account_and_is_not_offered_to(client, db, login_as):
    admin = login_as(Role.admin)
    factories.agent(role=Role.admin)
    db.session.commit()
    page = client.get("/admin/agents").get_data(as_text=True)
    assert f"/admin/agents/{admin.id}/deactivate" not in page
    response = client.post(f"/admin/agents/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


