"""Admins manage agents: create with a temporary password or a set-password link, edit, change
roles, deactivate (signed out at the next request), reset passwords; the last admin stays."""

import re

from portal.extensions import db as _db
from portal.models import Agent, AuditLog, Role
from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.test_profile import OtherBrowser


def _actions():
    return [row.action for row in _db.session.query(AuditLog).order_by(AuditLog.id)]


def _link_path(html: str) -> str:
    return re.search(r'value="https?://[^/"]+(/set-password/[^"]+)"', html).group(1)


def test_admin_lists_agents(client, login_as, db):
    login_as(Role.admin)
    other = factories.agent(role=Role.supervisor, name="Sofia Supervisora")
    db.session.commit()
    html = client.get("/admin/agents").get_data(as_text=True)
    assert "Sofia Supervisora" in html and other.email in html


def test_admin_creates_an_agent_with_a_temporary_password(app, client, login_as, db):
    login_as(Role.admin)
    response = client.post(
        "/admin/agents/new",
        data={
            "name": "Nova",
            "email": "Nova@Example.com",
            "role": "supervisor",
            "temporary_password": "temporary-123",
        },
    )
    assert response.status_code == 302
    agent = _db.session.query(Agent).filter_by(email="nova@example.com").one()
    assert agent.role == Role.supervisor and agent.check_password("temporary-123")
    other = OtherBrowser(app)
    assert (
        other.post("/login", data={"email": "nova@example.com", "password": "temporary-123"}).status_code
        == 302
    )


def test_admin_creates_an_agent_with_a_set_password_link_that_works_once(app, client, login_as, db):
    login_as(Role.admin)
    response = client.post(
        "/admin/agents/new", data={"name": "Link", "email": "link@example.com", "role": "agent"}
    )
    assert response.status_code == 200
    path = _link_path(response.get_data(as_text=True))

    visitor = OtherBrowser(app)
    assert visitor.get(path).status_code == 200
    form = {"new_password": "my-own-password", "confirm_password": "my-own-password"}
    assert visitor.post(path, data=form).status_code == 302
    assert (
        visitor.post("/login", data={"email": "link@example.com", "password": "my-own-password"}).status_code
        == 302
    )

    again = OtherBrowser(app).post(
        path, data={"new_password": "hijacked-pass", "confirm_password": "hijacked-pass"}
    )
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert "agent.password_set" in _actions()


def test_a_forged_set_password_link_is_refused(client, db):
    response = client.get("/set-password/not-a-real-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_a_duplicate_email_is_shown_beside_the_field(client, login_as, db):
    admin = login_as(Role.admin)
    response = client.post("/admin/agents/new", data={"name": "Dup", "email": admin.email, "role": "agent"})
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)


def test_admin_edits_name_email_and_role_and_the_role_change_is_audited(client, login_as, db):
    login_as(Role.admin)
    agent = factories.agent(role=Role.agent)
    db.session.commit()
    response = client.post(
        f"/admin/agents/{agent.id}",
        data={"name": "Renamed", "email": "renamed@example.com", "role": "supervisor"},
    )
    assert response.status_code == 302
    db.session.refresh(agent)
    assert (agent.name, agent.email, agent.role) == ("Renamed", "renamed@example.com", Role.supervisor)
    change = _db.session.query(AuditLog).filter_by(action="agent.role_changed").one()
    assert change.details == {"old": "agent", "new": "supervisor"} and change.target_id == str(agent.id)


def test_a_deactivated_agent_is_signed_out_at_the_next_request(app, client, login_as, db):
    login_as(Role.admin)
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    agent_client = OtherBrowser(app)
    agent_client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD})
    assert agent_client.get("/profile").status_code == 200

    assert client.post(f"/admin/agents/{agent.id}/deactivate").status_code == 302
    response = agent_client.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert (
        agent_client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD}).status_code == 200
    )

    client.post(f"/admin/agents/{agent.id}/reactivate")
    assert (
        agent_client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD}).status_code == 302
    )
    assert _actions().count("agent.deactivated") == 1 and "agent.reactivated" in _actions()


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, login_as, db):
    admin = login_as(Role.admin)
    response = client.post(
        f"/admin/agents/{admin.id}", data={"name": admin.name, "email": admin.email, "role": "supervisor"}
    )
    assert response.status_code == 200
    assert "last active admin" in response.get_data(as_text=True)
    client.post(f"/admin/agents/{admin.id}/deactivate")
    db.session.refresh(admin)
    assert admin.role == Role.admin and admin.active

    second = factories.agent(role=Role.admin)
    db.session.commit()
    assert client.post(f"/admin/agents/{second.id}/deactivate").status_code == 302
    db.session.refresh(second)
    assert not second.active
    # With the second admin deactivated, the first is the last active one again.
    client.post(f"/admin/agents/{admin.id}", data={"name": admin.name, "email": admin.email, "role": "agent"})
    db.session.refresh(admin)
    assert admin.role == Role.admin


def test_reset_password_signs_the_agent_out_and_sets_the_temporary_password(app, client, login_as, db):
    login_as(Role.admin)
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    agent_client = OtherBrowser(app)
    agent_client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD})

    response = client.post(
        f"/admin/agents/{agent.id}/reset-password", data={"temporary_password": "brand-new-pass"}
    )
    assert response.status_code == 302
    assert agent_client.get("/profile").status_code == 302
    assert (
        agent_client.post("/login", data={"email": agent.email, "password": "brand-new-pass"}).status_code
        == 302
    )


def test_reset_password_without_a_temporary_password_gives_a_link(app, client, login_as, db):
    login_as(Role.admin)
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    response = client.post(f"/admin/agents/{agent.id}/reset-password", data={"temporary_password": ""})
    assert response.status_code == 200
    path = _link_path(response.get_data(as_text=True))
    visitor = OtherBrowser(app)
    visitor.post(path, data={"new_password": "chosen-by-me", "confirm_password": "chosen-by-me"})
    assert visitor.post("/login", data={"email": agent.email, "password": TEST_PASSWORD}).status_code == 200
    assert visitor.post("/login", data={"email": agent.email, "password": "chosen-by-me"}).status_code == 302


def test_supervisors_cannot_manage_agents(client, login_as, db):
    login_as(Role.supervisor)
    assert client.get("/admin/agents").status_code == 403
    assert (
        client.post(
            "/admin/agents/new", data={"name": "x", "email": "x@example.com", "role": "admin"}
        ).status_code
        == 403
    )
