"""Two-factor sign-in: set up from the profile (on only after a right code), asked after the
password, a code used once, recovery codes once and hashed, the secret encrypted at rest,
throttled like passwords, required by admins for admins and supervisors, reset by another admin."""

import time

import pyotp
import pytest

from portal import crypto
from portal.extensions import db as _db
from portal.models import AuditLog, Role
from portal.services import two_factor
from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.test_profile import OtherBrowser


def _code(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + steps_ahead * totp.interval)


def _enrolled(agent) -> tuple[str, list[str]]:
    secret = two_factor.start_enrolment(agent)
    codes = two_factor.confirm_enrolment(agent, _code(secret))
    _db.session.commit()
    return secret, codes


def _actions():
    return [row.action for row in _db.session.query(AuditLog).order_by(AuditLog.id)]


def _password_step(client, agent, address="10.0.0.1"):
    return client.post(
        "/login",
        data={"email": agent.email, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )


def _code_step(client, code, address="10.0.0.1"):
    return client.post("/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": address})


def test_an_agent_sets_it_up_from_the_profile_and_it_is_on_only_after_a_right_code(client, login_as, db):
    agent = login_as(Role.agent)
    assert client.post("/profile/two-factor/start").status_code == 302
    page = client.get("/profile/two-factor").get_data(as_text=True)
    db.session.refresh(agent)
    secret = two_factor.pending_secret(agent)
    assert secret in page and "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0]
    response = client.post("/profile/two-factor/confirm", data={"code": "000000"})
    assert "That code is not right" in response.get_data(as_text=True)
    db.session.refresh(agent)
    assert not two_factor.is_enabled(agent)

    response = client.post("/profile/two-factor/confirm", data={"code": _code(secret)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Your recovery codes" in html
    db.session.refresh(agent)
    assert two_factor.is_enabled(agent) and two_factor.remaining_recovery_codes(agent) == 10
    assert "two_factor.enabled" in _actions()
    assert "Your recovery codes" not in client.get("/profile/two-factor").get_data(as_text=True)


def test_the_secret_is_encrypted_and_recovery_codes_hashed_at_rest(db):
    agent = factories.agent()
    secret, codes = _enrolled(agent)
    assert agent.totp_secret != secret and crypto.decrypt(agent.totp_secret) == secret
    stored = " ".join(agent.recovery_code_hashes)
    assert not any(code.replace("-", "") in stored for code in codes)


def test_sign_in_asks_for_the_code_after_the_password(app, client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    secret, _codes = _enrolled(agent)
    response = _password_step(client, agent)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert client.get("/profile").status_code == 302  # not signed in yet
    assert _code_step(client, "123456").status_code == 200
    response = _code_step(client, _code(secret, steps_ahead=1))
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert _actions().count("auth.login") == 1 and "auth.two_factor_failed" in _actions()


def test_a_code_is_accepted_only_once(app, client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    secret, _codes = _enrolled(agent)
    code = _code(secret, steps_ahead=1)
    _password_step(client, agent)
    assert _code_step(client, code).status_code == 302
    other = OtherBrowser(app)
    _password_step(other, agent)
    response = _code_step(other, code)
    assert response.status_code == 200 and "That code is not right" in response.get_data(as_text=True)


def test_a_recovery_code_signs_in_once(app, client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    _secret, codes = _enrolled(agent)
    _password_step(client, agent)
    assert _code_step(client, codes[0].upper()).status_code == 302
    assert two_factor.remaining_recovery_codes(agent) == 9
    other = OtherBrowser(app)
    _password_step(other, agent)
    assert _code_step(other, codes[0]).status_code == 200
    assert "two_factor.recovery_code_used" in _actions()


def test_the_code_step_is_throttled_like_passwords(client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    secret, _codes = _enrolled(agent)
    _password_step(client, agent)
    for _ in range(5):
        assert _code_step(client, "000000").status_code == 200
    response = _code_step(client, _code(secret, steps_ahead=1))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_the_code_step_needs_the_password_step_first_and_expires(app, client, db):
    agent = factories.agent(password=TEST_PASSWORD)
    secret, _codes = _enrolled(agent)
    assert _code_step(client, _code(secret)).headers["Location"].endswith("/login")
    _password_step(client, agent)
    with client.session_transaction() as stored:
        stored["two_factor_pending"] = {**stored["two_factor_pending"], "until": int(time.time()) - 1}
    assert _code_step(client, _code(secret, steps_ahead=1)).headers["Location"].endswith("/login")


def test_admins_require_it_for_admins_and_supervisors_who_are_sent_to_enrol_first(app, client, login_as, db):
    admin = login_as(Role.admin)
    _enrolled(admin)
    response = client.post("/admin/agents/two-factor-policy", data={"required": "y"})
    assert response.status_code == 302
    supervisor = factories.agent(role=Role.supervisor, password=TEST_PASSWORD)
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()

    browser = OtherBrowser(app)
    _password_step(browser, supervisor)
    response = browser.get("/inbox")
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile/two-factor")
    assert browser.get("/profile/two-factor").status_code == 200
    assert browser.get("/inbox", headers={"HX-Request": "true"}).headers["HX-Redirect"].endswith(
        "/profile/two-factor"
    )

    other = OtherBrowser(app)
    _password_step(other, agent)
    assert other.get("/profile").status_code == 200  # agents choose for themselves
    assert "settings.changed" in _actions()


def test_turning_it_off_needs_a_code_and_is_refused_when_required(client, login_as, db):
    agent = login_as(Role.supervisor)
    secret, _codes = _enrolled(agent)
    two_factor.set_required(True, by=agent)
    db.session.commit()
    response = client.post("/profile/two-factor/off", data={"code": _code(secret, steps_ahead=1)})
    assert "required for your role" in response.get_data(as_text=True)
    two_factor.set_required(False, by=agent)
    db.session.commit()
    assert "not right" in client.post("/profile/two-factor/off", data={"code": "000000"}).get_data(as_text=True)
    assert client.post("/profile/two-factor/off", data={"code": _code(secret, steps_ahead=1)}).status_code == 302
    db.session.refresh(agent)
    assert not two_factor.is_enabled(agent) and agent.totp_secret is None


def test_another_admin_resets_an_agents_two_factor_and_it_is_audited(app, client, login_as, db):
    admin = login_as(Role.admin)
    agent = factories.agent(password=TEST_PASSWORD)
    _enrolled(agent)
    assert "Reset two-factor sign-in" in client.get(f"/admin/agents/{agent.id}").get_data(as_text=True)
    response = client.post(f"/admin/agents/{agent.id}/two-factor/reset", data={})
    assert "Tick the box" in response.get_data(as_text=True)
    db.session.refresh(agent)
    assert two_factor.is_enabled(agent)
    response = client.post(f"/admin/agents/{agent.id}/two-factor/reset", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.refresh(agent)
    assert not two_factor.is_enabled(agent)
    reset = db.session.query(AuditLog).filter_by(action="two_factor.reset").one()
    assert reset.actor_id == admin.id and reset.target_id == str(agent.id)
    browser = OtherBrowser(app)
    assert _password_step(browser, agent).headers["Location"].endswith("/")


def test_an_admin_cannot_reset_their_own_two_factor(db):
    admin = factories.agent(role=Role.admin)
    _enrolled(admin)
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.reset(admin, by=admin)
