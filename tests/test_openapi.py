"""The OpenAPI document is valid, and the running app keeps every promise it makes: schemathesis
generates requests for each operation (valid and invalid ones, with and without the token) and
checks the answers' status codes, content types, headers and bodies against the document, and
that none is a 500."""

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from portal.api.openapi import DOCUMENT
from portal.extensions import db as _db
from portal.models import ApiToken, Role, utcnow
from portal.services.api_tokens import hash_token
from tests import factories
from tests.api_support import ApiClient, InOwnAppContext

# A fixed token, so schemathesis knows it from its configuration and can also try calls without it.
FUZZ_TOKEN = "atd_schemathesis-fixed-token-for-the-conformance-run"

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
]

schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": FUZZ_TOKEN}}}})
)
# The document is loaded at import (parametrize needs it), before the session's app exists; the
# app is plugged in by the fuzz_data fixture.
wsgi_app = schema.app = InOwnAppContext()


def test_the_document_is_valid_openapi():
    validate(DOCUMENT)


def test_the_served_document_is_the_module_document(client, db):
    assert ApiClient(client).get("/api/v1/openapi.json").get_json() == DOCUMENT


def _flask_rule(path: str) -> str:
    return "/api/v1" + path.replace("{", "<int:").replace("}", ">")


def test_every_api_route_is_documented_and_every_documented_route_exists(app):
    documented = {
        (_flask_rule(path), method.upper())
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method != "parameters"
    }
    routed = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == documented


@pytest.fixture
def fuzz_data(app, db):
    """A supervisor owning FUZZ_TOKEN, and a few rows with small ids, which generated requests hit
    often, so not every answer is a 404."""
    supervisor = factories.agent(role=Role.supervisor)
    _db.session.add(ApiToken(agent=supervisor, name="fuzz", token_hash=hash_token(FUZZ_TOKEN), prefix=FUZZ_TOKEN[:12]))
    contact = factories.contact()
    factories.conversation(contact, assigned_to=supervisor.id, last_inbound_at=utcnow() - timedelta(hours=1))
    factories.contact()
    _db.session.commit()
    wsgi_app.app = app


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_app_conforms_to_its_document(case, fuzz_data):
    case.call_and_validate(checks=CHECKS)
