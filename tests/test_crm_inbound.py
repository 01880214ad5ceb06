"""POST /webhooks/crm: signed, stored as webhook_events (provider crm), processed by the worker."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from portal.models import Contact, ConversationStatus, WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS
from tests import factories

SECRET = "inbound-crm-secret"


@pytest.fixture
def crm_secret(app):
    app.config["CRM_WEBHOOK_SECRET"] = SECRET
    yield SECRET
    app.config["CRM_WEBHOOK_SECRET"] = None


def signed_post(client, payload, *, secret=SECRET, timestamp=None, body=None):
    body = body if body is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/crm",
        data=body,
        content_type="application/json",
        headers={"X-Atende-Timestamp": timestamp, "X-Atende-Signature": signature},
    )


def upsert(**data):
    return {"type": "contact.upsert", "data": data}


def only_event(db) -> WebhookEvent:
    db.session.expire_all()
    return db.session.query(WebhookEvent).one()


def test_a_signed_event_is_stored_with_provider_crm_and_upserts_the_contact(client, db, crm_secret, run_jobs):
    response = signed_post(
        client, upsert(phone="+55 11 98765-4321", name="Ana CRM", email="ana@crm.com", city="Santos", score=99)
    )
    assert response.status_code == 200
    event = only_event(db)
    assert (event.provider, event.event_type, event.status) == ("crm", "contact.upsert", WebhookStatus.pending)
    run_jobs(WEBHOOKS)
    event = only_event(db)
    assert event.status == WebhookStatus.processed and event.error is None
    contact = db.session.query(Contact).one()
    assert (contact.name, contact.phone, contact.email, contact.city) == (
        "Ana CRM",
        "+5511987654321",
        "ana@crm.com",
        "Santos",
    )


def test_an_existing_contact_is_matched_by_phone_without_the_ninth_digit(client, db, crm_secret, run_jobs):
    contact = factories.contact(name="Bruno", phone="+5511987654321", email="old@example.com")
    db.session.commit()
    signed_post(client, upsert(phone="551187654321", city="Campinas"))
    run_jobs(WEBHOOKS)
    db.session.expire_all()
    assert db.session.query(Contact).count() == 1
    assert (contact.name, contact.email, contact.city) == ("Bruno", "old@example.com", "Campinas")


def test_tags_are_added_to_the_open_conversation(client, db, crm_secret, run_jobs):
    contact = factories.contact(phone="+5511987654321")
    closed = factories.conversation(contact, status=ConversationStatus.closed)
    open_one = factories.conversation(contact)
    db.session.commit()
    signed_post(client, upsert(phone="+5511987654321", tags=["VIP", "lead"]))
    run_jobs(WEBHOOKS)
    db.session.expire_all()
    assert [t.name for t in open_one.tags] == ["lead", "vip"]
    assert closed.tags == []
    assert only_event(db).status == WebhookStatus.processed


def test_tags_without_an_open_conversation_are_noted_in_the_event(client, db, crm_secret, run_jobs):
    signed_post(client, upsert(phone="+5511987654321", name="Carla", tags=["vip"]))
    run_jobs(WEBHOOKS)
    event = only_event(db)
    assert event.status == WebhookStatus.processed
    assert "no open conversation" in event.error and "vip" in event.error
    assert db.session.query(Contact).one().name == "Carla"


def test_an_invalid_phone_fails_the_event_with_the_reason(client, db, crm_secret, run_jobs):
    signed_post(client, upsert(phone="12345", name="Ninguém"))
    run_jobs(WEBHOOKS)
    event = only_event(db)
    assert event.status == WebhookStatus.failed
    assert "not a valid phone number" in event.error
    assert db.session.query(Contact).count() == 0


def test_an_invalid_email_is_skipped_and_noted(client, db, crm_secret, run_jobs):
    signed_post(client, upsert(phone="+5511987654321", name="Dani", email="dani@@x"))
    run_jobs(WEBHOOKS)
    event = only_event(db)
    assert event.status == WebhookStatus.processed and "e-mail" in event.error
    assert db.session.query(Contact).one().email is None


def test_a_bad_signature_is_refused_with_401_and_nothing_stored(client, db, crm_secret):
    assert signed_post(client, upsert(phone="+5511987654321"), secret="wrong").status_code == 401
    response = client.post("/webhooks/crm", json=upsert(phone="+5511987654321"))
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_signature"
    assert db.session.query(WebhookEvent).count() == 0


def test_a_tampered_body_is_refused(client, db, crm_secret):
    timestamp = str(int(time.time()))
    body = json.dumps(upsert(phone="+5511987654321")).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    response = client.post(
        "/webhooks/crm",
        data=body.replace(b"4321", b"4322"),
        content_type="application/json",
        headers={"X-Atende-Timestamp": timestamp, "X-Atende-Signature": signature},
    )
    assert response.status_code == 401


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamps_outside_five_minutes_are_refused(client, db, crm_secret, skew):
    response = signed_post(client, upsert(phone="+5511987654321"), timestamp=int(time.time()) + skew)
    assert response.status_code == 401
    assert db.session.query(WebhookEvent).count() == 0


def test_a_signed_body_that_is_not_a_json_object_is_a_400(client, db, crm_secret):
    assert signed_post(client, None, body=b"[1, 2]").status_code == 400
    assert signed_post(client, None, body=b"not json").status_code == 400
    assert db.session.query(WebhookEvent).count() == 0


def test_without_a_secret_the_webhook_refuses_everything(client, db):
    response = signed_post(client, upsert(phone="+5511987654321"))
    assert response.status_code == 503
    assert db.session.query(WebhookEvent).count() == 0


def test_unknown_event_types_are_stored_and_noted(client, db, crm_secret, run_jobs):
    signed_post(client, {"type": "deal.won", "data": {"amount": 10}})
    run_jobs(WEBHOOKS)
    event = only_event(db)
    assert event.status == WebhookStatus.processed and "stored only" in event.error


def test_a_replayed_request_is_refused_and_stored_once(client, db, crm_secret):
    body = json.dumps(upsert(phone="+5511987654321", name="Replay")).encode()
    timestamp = int(time.time())
    assert signed_post(client, None, body=body, timestamp=timestamp).status_code == 200
    replay = signed_post(client, None, body=body, timestamp=timestamp)
    assert replay.status_code == 409 and replay.get_json()["error"]["code"] == "replayed"
    assert db.session.query(WebhookEvent).count() == 1


def test_the_same_event_id_signed_again_is_refused(client, db, crm_secret):
    payload = {"id": "evt-42", **upsert(phone="+5511987654321")}
    assert signed_post(client, payload).status_code == 200
    again = signed_post(client, payload, timestamp=int(time.time()) - 1)
    assert again.status_code == 409
    assert signed_post(client, {**payload, "id": "evt-43"}, timestamp=int(time.time()) - 2).status_code == 200
    assert db.session.query(WebhookEvent).count() == 2


def test_a_request_that_could_not_be_stored_may_be_sent_again(client, db, crm_secret, monkeypatch):
    from portal.services import webhook_events

    payload = {"id": "evt-7", **upsert(phone="+5511987654321")}
    body, timestamp = json.dumps(payload).encode(), int(time.time())
    real_store = webhook_events.store

    def database_down(*args, **kwargs):
        raise webhook_events.DatabaseUnavailable("restarting")

    monkeypatch.setattr(webhook_events, "store", database_down)
    assert signed_post(client, None, body=body, timestamp=timestamp).status_code == 503
    monkeypatch.setattr(webhook_events, "store", real_store)
    assert signed_post(client, None, body=body, timestamp=timestamp).status_code == 200
