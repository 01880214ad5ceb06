from portal.models import AuditLog, Role
from tests import factories
from tests.conftest import TEST_PASSWORD


def test_login_with_right_password_opens_a_session(client, db):
    agent = factories.agent(email="ana@example.com")
    db.session.commit()
    response = client.post("/login", data={"email": "ANA@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code in (200, 302)
    assert db.session.query(AuditLog).filter_by(action="auth.login", actor_id=agent.id).count() == 1


def test_wrong_password_is_refused_with_an_inline_error_and_audited(client, db):
    factories.agent(email="ana@example.com")
    db.session.commit()
    response = client.post("/login", data={"email": "ana@example.com", "password": "nope-nope"})
    assert response.status_code == 200
    assert "Wrong e-mail or password" in response.get_data(as_text=True) or "incorreta" in response.get_data(
        as_text=True
    )
    assert db.session.query(AuditLog).filter_by(action="auth.login_failed").count() == 1
    assert client.get("/").status_code == 302


def test_inactive_agent_cannot_log_in(client, db):
    factories.agent(email="old@example.com", active=False)
    db.session.commit()
    response = client.post("/login", data={"email": "old@example.com", "password": TEST_PASSWORD})
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_agent_is_signed_out_at_next_request(client, db, login_as):
    agent = login_as(Role.agent)
    assert client.get("/healthz").status_code == 200
    agent.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_password_is_stored_hashed(db):
    agent = factories.agent(password="s3cret-password")
    assert agent.password_hash and "s3cret-password" not in agent.password_hash
    assert agent.check_password("s3cret-password") and not agent.check_password("other")


def test_remember_me_sets_a_remember_cookie(client, db):
    agent = factories.agent()
    db.session.commit()
    client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None


def test_logout_requires_post_and_ends_the_session(client, login_as):
    login_as(Role.agent)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_next_parameter_cannot_redirect_off_site(client, db):
    agent = factories.agent()
    db.session.commit()
    response = client.post(
        "/login?next=https://evil.example/", data={"email": agent.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_forms_without_a_csrf_token_are_rejected(app, client, db):
    agent = factories.agent()
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400


def test_htmx_requests_carry_the_csrf_token_from_the_body_header(app, client, db):
    """Every page puts the token in <body hx-headers>, and a POST without it is refused."""
    import re

    agent = factories.agent()
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        login_page = client.get("/login").get_data(as_text=True)
        form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD, "csrf_token": form_token})
        page = client.get("/profile").get_data(as_text=True)
        header_token = re.search(r"X-CSRFToken&#34;: &#34;([^&]+)&#34;|X-CSRFToken\": \"([^\"]+)\"", page)
        token = next(g for g in header_token.groups() if g)
        refused = client.post("/logout", headers={"HX-Request": "true"})
        accepted = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    assert accepted.status_code == 302
