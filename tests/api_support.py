"""Helpers for the REST API tests: an agent with a bearer token, and a client whose every call
runs in its own app context.

The `db` fixture keeps one app context pushed for the whole test, and the Flask test client
reuses it, so flask.g (where Flask-Login caches the user) would outlive a request: a token
revoked between two calls would still pass. Production gives each request its own context; so
does ApiClient. Before each call it commits the test's session, so the request sees the test's
rows and SQLite is not left locked by the test's open transaction.
"""

from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.models import Agent, Role
from portal.services import api_tokens
from tests import factories


class InOwnAppContext:
    """A WSGI callable that runs each request to `app` (set once the app exists) in a fresh app
    context (see above)."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        with self.app.app_context():
            return self.app(environ, start_response)


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


class ApiClient:
    def __init__(self, client, headers: dict[str, str] | None = None):
        self.client = client
        self.headers = headers or {}

    def open(self, url: str, method: str = "GET", **kwargs: Any):
        db.session.commit()
        headers = {**self.headers, **kwargs.pop("headers", {})}
        with self.client.application.app_context():
            response = self.client.open(url, method=method, headers=headers, **kwargs)
        db.session.expire_all()
        return response

    def get(self, url: str, **kwargs: Any):
        return self.open(url, "GET", **kwargs)

    def post(self, url: str, **kwargs: Any):
        return self.open(url, "POST", **kwargs)

    def patch(self, url: str, **kwargs: Any):
        return self.open(url, "PATCH", **kwargs)

    def delete(self, url: str, **kwargs: Any):
        return self.open(url, "DELETE", **kwargs)


def token_for(agent: Agent) -> str:
    _token, plaintext = api_tokens.create(agent, "tests")
    db.session.commit()
    return plaintext


def api_as(client, role: Role = Role.agent, **fields) -> tuple[Agent, ApiClient]:
    """A committed agent of `role` and a client that calls the API with their token."""
    agent = factories.agent(role=role, **fields)
    return agent, ApiClient(client, bearer(token_for(agent)))
