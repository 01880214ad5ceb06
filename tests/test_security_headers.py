"""Every page carries the security headers; the content security policy allows only the portal's
own scripts, and HSTS is sent only in production."""

from portal.models import Role
from portal.security import add_security_headers


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_an_html_page_carries_the_security_headers(client, login_as):
    login_as(Role.agent)
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    # Voice notes: the microphone, for the portal's own pages only.
    assert "microphone=(self)" in response.headers["Permissions-Policy"].split(", ")


def test_the_content_security_policy_allows_only_the_portals_own_scripts(client):
    response = client.get("/login")
    csp = _directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'self'"]
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_pages_have_no_inline_scripts(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html
    assert "<script src=" in html


def test_json_and_error_answers_carry_the_headers_too(client):
    assert client.get("/healthz").headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in client.get("/no-such-page").headers


def test_hsts_only_in_production(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["ATENDE_ENV"] = "production"
    try:
        with app.test_request_context("/"):
            response = add_security_headers(app.response_class("ok"))
    finally:
        app.config["ATENDE_ENV"] = "development"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookies_are_secure_in_production(monkeypatch, tmp_path):
    from portal import config
    from tests.test_config import GOOD_PRODUCTION_ENV

    for name, value in GOOD_PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    cfg = config.load(tmp_path)
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["REMEMBER_COOKIE_SECURE"] and cfg["SESSION_COOKIE_HTTPONLY"]


def test_pages_exports_and_media_are_never_cached_but_static_files_may_be(client, login_as):
    login_as(Role.supervisor)
    for path in ("/inbox", "/contacts", "/contacts/export.csv", "/login", "/set-password/not-a-token"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    assert client.get("/static/app.css").headers.get("Cache-Control") != "no-store"
