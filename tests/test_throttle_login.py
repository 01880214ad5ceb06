"""Login throttling: attempts are counted before the password is checked, per account and address,
per address, and per account from anywhere (a larger, slower limit); over a limit the answer is
429 until its window expires, even with the right password."""

import threading

import pytest
from flask import request

from portal import create_app
from portal.access import public
from portal.extensions import db as _db
from portal.models import AuditLog, Role
from portal.queue import redis_connection
from portal.services import agents
from tests import factories
from tests.conftest import TEST_PASSWORD


def _login(client, email, password, address="10.0.0.1"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def _actions():
    return [row.action for row in _db.session.query(AuditLog).order_by(AuditLog.id)]


def _count_password_checks(monkeypatch) -> list[int]:
    checks = []
    lock = threading.Lock()
    real_check = agents.check_password_hash

    def counting_check(pwhash, password):
        with lock:
            checks.append(1)
        return real_check(pwhash, password)

    monkeypatch.setattr(agents, "check_password_hash", counting_check)
    return checks


def test_sixth_wrong_password_blocks_the_account_from_that_address_even_with_the_right_password(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(5):
        assert _login(client, agent.email, "wrong-password").status_code == 200
    response = _login(client, agent.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert "auth.login_throttled" in _actions()


def test_a_guesser_cannot_lock_the_owner_out_from_another_address(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(30):
        _login(client, agent.email, "wrong-password", address="203.0.113.66")
    assert _login(client, agent.email.upper(), TEST_PASSWORD, address="198.51.100.20").status_code == 302


@pytest.fixture
def account_limit_of_12(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_PER_ACCOUNT", 12)


def test_guessing_one_account_from_many_addresses_meets_the_account_limit(client, db, account_limit_of_12):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for n in range(12):
        assert _login(client, agent.email, "wrong-password", address=f"203.0.113.{n}").status_code == 200
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.20").status_code == 429


def test_thirty_parallel_wrong_passwords_cost_at_most_the_limit_in_password_checks(app, db, monkeypatch):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    email = agent.email
    checks = _count_password_checks(monkeypatch)
    statuses = []
    start = threading.Barrier(30)

    def attempt():
        client = app.test_client()
        start.wait()
        statuses.append(_login(client, email, "wrong-password").status_code)

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) <= 5
    assert statuses.count(200) == len(checks) and statuses.count(429) == 30 - len(checks)


def test_guessing_from_many_addresses_does_not_lock_the_owner_out_at_their_usual_address(
    client, db, account_limit_of_12
):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.20").status_code == 302
    client.post("/logout")
    for n in range(12):
        _login(client, agent.email, "wrong-password", address=f"203.0.113.{n}")
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.99").status_code == 429
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.20").status_code == 302


def test_refused_attempts_do_not_count_towards_the_account_limit(client, db, account_limit_of_12):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(40):
        _login(client, agent.email, "wrong-password", address="203.0.113.66")
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.20").status_code == 302


def test_the_block_lifts_when_the_window_expires(client, db, app):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(5):
        _login(client, agent.email, "wrong-password")
    assert _login(client, agent.email, TEST_PASSWORD).status_code == 429
    redis = redis_connection(app)
    for key in redis.keys("atende:login_attempts:*"):
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


def test_successful_logins_do_not_use_up_the_address_allowance(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for _ in range(25):
        assert _login(client, agent.email, TEST_PASSWORD).status_code == 302
        client.post("/logout")


def test_one_address_is_limited_across_accounts(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    for n in range(20):
        assert _login(client, f"guess{n}@example.com", "wrong-password", address="203.0.113.7").status_code == 200
    assert _login(client, agent.email, TEST_PASSWORD, address="203.0.113.7").status_code == 429
    assert _login(client, agent.email, TEST_PASSWORD, address="198.51.100.1").status_code == 302


def test_a_flood_of_refused_attempts_writes_a_handful_of_audit_rows(client, db):
    for n in range(20):
        _login(client, f"guess{n}@example.com", "wrong-password", address="203.0.113.7")
    before = len(_actions())
    for _ in range(150):
        assert _login(client, "victim@example.com", "wrong-password", address="203.0.113.7").status_code == 429
    throttled = _db.session.query(AuditLog).filter_by(action="auth.login_throttled").order_by(AuditLog.id).all()
    assert len(_actions()) - before == len(throttled) == 3
    assert [row.details["refusals"] for row in throttled] == [1, 10, 100]


def test_an_unknown_email_costs_a_password_check_like_a_known_one(client, db, monkeypatch):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    checks = _count_password_checks(monkeypatch)
    _login(client, agent.email, "wrong-password")
    assert len(checks) == 1
    _login(client, "nobody-here@example.com", "wrong-password")
    assert len(checks) == 2


def test_failed_logins_are_audited(client, db):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    _login(client, agent.email, "wrong-password")
    _login(client, agent.email, TEST_PASSWORD)
    assert _actions() == ["auth.login_failed", "auth.login"]


def _app_behind_proxies(app, hops: int):
    proxied = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "TRUSTED_PROXIES": hops,
        }
    )
    proxied.add_url_rule("/_client_address", view_func=public(lambda: request.remote_addr or ""))
    return proxied.test_client()


def test_behind_trusted_proxies_the_client_address_comes_from_x_forwarded_for(app):
    client = _app_behind_proxies(app, hops=1)
    response = client.get(
        "/_client_address",
        headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    # One trusted proxy: its own entry is the last one; anything before it the client could forge.
    assert response.get_data(as_text=True) == "198.51.100.7"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app):
    client = _app_behind_proxies(app, hops=0)
    response = client.get(
        "/_client_address", headers={"X-Forwarded-For": "192.0.2.1"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert response.get_data(as_text=True) == "10.0.0.2"
