"""Bad input is never a 500: every route of the URL map, as every role, with hostile values in
its path, in every query parameter and form field the app reads, and in the JSON body of API
writes (huge, negative and non-numeric numbers, unknown enum values, CR/LF, very long text, bad
cursors and dates). Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL, whose integer
and text types refuse more than SQLite's."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter

import portal
from portal.extensions import db
from portal.models import ConversationStatus, Direction, Role
from portal.services import api_tokens
from tests import factories
from tests.conftest import TEST_PASSWORD

HUGE = str(10**25)
LONG = "x" * 5000
HOSTILE_VALUES = (
    HUGE,
    "-1",
    "abc",  # also an unknown enum value
    "x\r\nSet-Cookie: injected=1",
    "\u00e7\u00e3o \U0001f4a5",
    "%",
    "2026-13-45",
    "!!not-a-cursor!!",
    "W10",  # base64 of "[]": a cursor that decodes but holds nothing
    "\u00b2",  # a digit to str.isdigit(), not to int()
    LONG,
)
PATH_INTS = ("1", HUGE)
PATH_STRINGS = ("1", "x\r\ny", "x" * 300, HUGE)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Logging out would end the role's session halfway through the walk; it takes no input anyway.
SKIPPED = {"auth.logout"}

_READS = re.compile(r"""(?:request\.(?:args|form|values)\.get(?:list)?|query_\w+\(errors,)\(?\s*["'](\w+)["']""")


def _parameter_names() -> list[str]:
    """Every query parameter and form field the app reads: request.args/form lookups in the
    source, the API's typed query parameters and the fields of every form class."""
    names = set()
    for path in Path(portal.__file__).parent.rglob("*.py"):
        names.update(_READS.findall(path.read_text(encoding="utf-8")))
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    for form_class in _subclasses(FlaskForm):
        names.update(name for name, value in vars(form_class).items() if hasattr(value, "field_class"))
    return sorted(names - {"csrf_token"})


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _urls(app: Flask):
    """(endpoint, method, url) for every route, each path argument given each hostile value."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint == "static":
            continue
        variants = [{}]
        for arg in rule.arguments:
            converter = rule._converters[arg]
            values = PATH_INTS if isinstance(converter, IntegerConverter) else PATH_STRINGS
            variants = [{**v, arg: value} for v in variants for value in values]
        for method in sorted(set(rule.methods) & set(METHODS)):
            for values in variants:
                # A path that names a row gets every hostile value; any other one, the first.
                tried = HOSTILE_VALUES if all(v == "1" for v in values.values()) else HOSTILE_VALUES[:1]
                yield rule.endpoint, method, rule.build(values, append_unknown=False)[1], tried


def _hostile_headers(value: str) -> dict[str, str]:
    """The signature headers of the webhooks (a header cannot carry CR/LF at all)."""
    if "\r" in value or "\n" in value or not value.isascii():
        return {}
    return dict.fromkeys(("X-Atende-Timestamp", "X-Atende-Signature", "X-Hub-Signature-256"), value)


def _seed() -> None:
    """A row of each kind with id 1, so hostile parameters reach the code behind the lookups."""
    target = factories.agent(role=Role.agent, name="Target")
    api_tokens.create(target, "seed")
    contact = factories.contact()
    conversation = factories.conversation(contact, status=ConversationStatus.active)
    factories.message(conversation)
    factories.message(conversation, direction=Direction.outbound)
    db.session.commit()


def _walk(app: Flask, client, parameter_names: list[str]) -> list[tuple]:
    failures = []
    for endpoint, method, url, tried in _urls(app):
        for value in tried:
            params = dict.fromkeys(parameter_names, value)
            # The long text goes in the body of a write, not also in its query string: a second
            # copy of 159 x 5,000 characters doubled the walk's time and reaches no other code.
            query = params if method == "GET" or value is not LONG else {}
            kwargs = {"query_string": query, "headers": _hostile_headers(value)}
            if method != "GET":
                if url.startswith("/api/"):
                    kwargs["json"] = params
                else:
                    kwargs["data"] = params
            refused = False
            try:
                response = client.open(url, method=method, **kwargs)
                status, refused = response.status_code, _refused_before_input(response)
            except Exception as exc:  # TESTING propagates what production would answer with a 500
                status = f"{type(exc).__name__}: {str(exc)[:120]}"
            if not isinstance(status, int) or status >= 500:
                failures.append((status, method, url[:80], endpoint, value[:30]))
            db.session.rollback()
            if refused:
                break  # the role is turned away before the view reads anything: other values change nothing
    return failures


def _refused_before_input(response) -> bool:
    """The role may not use the route: a 401 or 403, or the redirect to the sign-in page."""
    return response.status_code in (401, 403) or (
        response.status_code == 302 and "/login" in response.headers.get("Location", "")
    )


# (role, CSRF checked): with CSRF on, every write is refused before its view, which walks the
# refusal page; anonymous visitors are the case that broke it.
CASES = [(None, False), (None, True), (Role.agent, False), (Role.supervisor, False), (Role.admin, False)]


@pytest.mark.parametrize(("role", "csrf"), CASES, ids=["anonymous", "anonymous-csrf", "agent", "supervisor", "admin"])
def test_no_route_answers_5xx_to_hostile_input(app, db, role, csrf, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", csrf)
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", "crm-secret-for-the-walk")
    _seed()
    client = app.test_client()
    headers = {}
    if role is not None:
        agent = factories.agent(role=role, password=TEST_PASSWORD)
        db.session.commit()
        assert client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD}).status_code == 302
        _token, plaintext = api_tokens.create(agent, "walk")
        db.session.commit()
        headers = {"Authorization": f"Bearer {plaintext}"}
    client.environ_base.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    failures = _walk(app, client, _parameter_names())
    assert failures == []
