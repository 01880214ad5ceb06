"""POST /webhooks/whatsapp stores a signed notification before answering; GET answers Meta's
verification handshake."""

import json

import psycopg
import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from sqlalchemy import func, select

from portal.channels.whatsapp.webhook import signature_header
from portal.models import WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS, redis_connection


def _event_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def test_verification_handshake_echoes_the_challenge_as_plain_text(app, client):
    response = client.get(
        "/webhooks/whatsapp",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": app.config["WHATSAPP_VERIFY_TOKEN"],
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "dev-verify-token", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_verification_with_a_wrong_token_or_mode_gets_403(client, query):
    assert client.get("/webhooks/whatsapp", query_string=query).status_code == 403


def test_a_signed_notification_is_stored_pending_and_enqueued(db, post_whatsapp, whatsapp_payload):
    payload = whatsapp_payload("text")
    response = post_whatsapp(payload)
    assert response.status_code == 200
    event = db.session.scalar(select(WebhookEvent))
    assert (event.provider, event.event_type, event.status) == ("whatsapp", "messages", WebhookStatus.pending)
    assert (event.attempts, event.processed_at, event.error) == (0, None, None)
    assert event.received_at is not None
    assert event.payload_json == payload
    [job] = Queue(WEBHOOKS, connection=redis_connection()).jobs
    assert job.func_name == "portal.jobs.webhooks.process_webhook_event"
    assert job.args == (event.id,)
    assert job.retries_left >= 3
    # No session is opened for a webhook: nothing reads the cookie jar, so nothing varies on it.
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_a_pooled_connection_the_database_server_closed_is_replaced(db, post_whatsapp, whatsapp_payload):
    """A PostgreSQL restart closes every pooled connection; the next webhook is still stored."""
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200
    if db.engine.dialect.name == "postgresql":
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as server:
            closed = server.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        assert closed >= 1
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200
    assert _event_count(db) == 2


def test_the_signature_covers_the_exact_bytes_with_escaped_unicode(db, post_whatsapp, whatsapp_payload):
    body = json.dumps(whatsapp_payload("text"), ensure_ascii=True).encode()
    assert b"\\u00f5" in body or b"\\u00e3" in body or b"\\u00f3" in body
    assert post_whatsapp(body).status_code == 200
    assert db.session.scalar(select(WebhookEvent)).payload_json["entry"][0]["changes"][0]["value"]["messages"][0][
        "text"
    ]["body"] == "Bom dia! Vocês entregam em Niterói?"


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=", "sha256=" + "0" * 64, "sha1=abc", "garbage"],
)
def test_a_missing_or_bad_signature_gets_401_and_nothing_is_stored(db, post_whatsapp, whatsapp_payload, signature):
    response = post_whatsapp(whatsapp_payload("text"), signature=signature)
    assert response.status_code == 401
    assert _event_count(db) == 0
    assert Queue(WEBHOOKS, connection=redis_connection()).count == 0


def test_a_body_signed_with_another_secret_gets_401(db, client, whatsapp_payload):
    body = json.dumps(whatsapp_payload("text")).encode()
    response = client.post(
        "/webhooks/whatsapp", data=body, headers={"X-Hub-Signature-256": signature_header(body, "another-secret")}
    )
    assert response.status_code == 401
    assert _event_count(db) == 0


def test_a_body_changed_after_signing_gets_401(app, db, client, whatsapp_payload):
    body = json.dumps(whatsapp_payload("text")).encode()
    signature = signature_header(body, app.config["WHATSAPP_APP_SECRET"])
    tampered = body.replace(b"Bom dia", b"Boa noite")
    assert client.post("/webhooks/whatsapp", data=tampered, headers={"X-Hub-Signature-256": signature}).status_code == 401
    assert _event_count(db) == 0


def test_a_body_over_one_mebibyte_gets_413(db, post_whatsapp):
    body = b'{"entry": "' + b"x" * (1024 * 1024) + b'"}'
    assert post_whatsapp(body).status_code == 413
    assert _event_count(db) == 0


@pytest.mark.parametrize("body", [b"not json", b"", b"[1, 2]", b'"text"', b'{"a": NaN}', b'{"a": 1e999}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_a_json_object_gets_400(db, post_whatsapp, body):
    response = post_whatsapp(body)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]["code"] == "bad_request"
    assert _event_count(db) == 0


def test_other_fields_are_stored_with_their_field_as_event_type(db, post_whatsapp, whatsapp_payload):
    assert post_whatsapp(whatsapp_payload("template_status_update")).status_code == 200
    assert db.session.scalar(select(WebhookEvent.event_type)) == "message_template_status_update"


def test_a_post_mixing_fields_is_a_batch_event(db, post_whatsapp, whatsapp_payload):
    payload = whatsapp_payload("text")
    payload["entry"].append(whatsapp_payload("template_status_update")["entry"][0])
    assert post_whatsapp(payload).status_code == 200
    assert db.session.scalar(select(WebhookEvent.event_type)) == "batch"


def test_with_redis_down_the_notification_is_still_stored_and_answered_200(app, db, post_whatsapp, whatsapp_payload):
    working = app.extensions["atende.redis"]
    app.extensions["atende.redis"] = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    try:
        response = post_whatsapp(whatsapp_payload("text"))
    finally:
        app.extensions["atende.redis"] = working
    assert response.status_code == 200
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == WebhookStatus.pending
    assert Queue(WEBHOOKS, connection=redis_connection()).count == 0


def test_the_webhook_needs_no_csrf_token(app, db, whatsapp_payload):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        body = json.dumps(whatsapp_payload("text")).encode()
        signature = signature_header(body, app.config["WHATSAPP_APP_SECRET"])
        response = app.test_client().post("/webhooks/whatsapp", data=body, headers={"X-Hub-Signature-256": signature})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200
