"""Every route is gated: walking the URL map proves anonymous users go to the login page and
roles below a route's minimum get 403."""

import pytest
from flask import Flask

from portal import create_app
from portal.models import Role
from tests import factories
from tests.conftest import TEST_PASSWORD

CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROLE_BELOW = {Role.supervisor: Role.agent, Role.admin: Role.supervisor}
# What a second app needs to share the test session's database and Redis.
PROBE_CONFIG = ("TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "WTF_CSRF_ENABLED", "PASSWORD_HASH_METHOD", "SECRET_KEY")


def _routes(app: Flask):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = rule.build({arg: "1" for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(set(rule.methods) & set(CHECKED_METHODS)):
            yield rule.endpoint, url, method


def test_every_route_declares_public_or_a_minimum_role(app):
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static"
        and not getattr(view, "_atende_public", False)
        and not hasattr(view, "_atende_min_role")
    ]
    assert undeclared == []


def test_anonymous_users_are_sent_to_login_on_every_gated_route(app, client):
    checked = 0
    for endpoint, url, method in _routes(app):
        view = app.view_functions[endpoint]
        if getattr(view, "_atende_public", False):
            continue
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url)
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"], (method, url)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("minimum", [Role.supervisor, Role.admin])
def test_roles_below_the_minimum_get_403(app, db, minimum):
    routes = [r for r in _routes(app) if getattr(app.view_functions[r[0]], "_atende_min_role", None) == minimum]
    assert routes, f"no route needs {minimum}"
    below = factories.agent(role=ROLE_BELOW[minimum], password=TEST_PASSWORD)
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": below.email, "password": TEST_PASSWORD})
    for _endpoint, url, method in routes:
        assert client.open(url, method=method).status_code == 403, (method, url)


def test_a_route_without_a_declared_role_is_refused(app, db):
    """Fail closed: a view that forgot to declare its role answers 403 even to an admin, through
    the real gate of a real app."""
    probe = create_app({key: app.config[key] for key in PROBE_CONFIG})
    probe.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    admin = factories.agent(role=Role.admin, password=TEST_PASSWORD)
    db.session.commit()
    client = probe.test_client()
    assert client.post("/login", data={"email": admin.email, "password": TEST_PASSWORD}).status_code == 302
    response = client.get("/undeclared")
    assert response.status_code == 403 and b"secret" not in response.data


def test_a_nul_character_in_a_query_or_form_is_a_400_not_a_500(client, login_as):
    login_as(Role.agent)
    assert client.get("/healthz?q=a%00b").status_code == 400
    assert client.post("/login", data={"email": "a\x00@example.com", "password": "x"}).status_code == 400
