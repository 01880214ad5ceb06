"""Login throttling: too many failures for one account, or from one address, answer 429 until
the window expires, even with the right password."""

from portal.extensions import db as _db
from portal.models import AuditLog, Role
from portal.queue import redis_connection
from tests import factories
from tests.conftest import TEST_PASSWORD


def _login(client, email, password, address="10.0.0.1"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def _actions():
    return [row.action for row in _db.session.query(AuditLog).order_by(AuditLog.id)]


def test_sixth_wrong_password_blocks_the_account_even_with_the_right_password(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(5):
        assert _login(client, agent.email, "wrong-password").status_code == 200
    response = _login(client, agent.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert "auth.login_throttled" in _actions()
    # Another address does not help: the account itself is throttled.
    assert _login(client, agent.email.upper(), TEST_PASSWORD, address="10.9.9.9").status_code == 429


def test_the_block_lifts_when_the_window_expires(client, db, app):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(5):
        _login(client, agent.email, "wrong-password")
    assert _login(client, agent.email, TEST_PASSWORD).status_code == 429
    redis = redis_connection(app)
    for key in redis.keys("atende:login_failures:*"):
        redis.expire(key, 0)  # what the passing of 15 minutes does
    assert _login(client, agent.email, TEST_PASSWORD).status_code == 302


def test_a_successful_login_resets_the_account_counter(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(4):
        _login(client, agent.email, "wrong-password")
    assert _login(client, agent.email, TEST_PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _login(client, agent.email, "wrong-password").status_code == 200
    assert _login(client, agent.email, TEST_PASSWORD).status_code == 302


def test_one_address_is_limited_across_accounts(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for n in range(20):
        assert _login(client, f"guess{n}@example.com", "wrong-password", address="203.0.113.7").status_code == 200
    assert _login(client, agent.email, TEST_PASSWORD, address="203.0.113.7").status_code == 429
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.1").status_code == 302


def test_failed_logins_are_audited(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    _login(client, agent.email, "wrong-password")
    _login(client, agent.email, TEST_PASSWORD)
    assert _actions() == ["auth.login_failed", "auth.login"]
