"""Outbound CRM events: recorded with the change that caused them, signed, retried, dead-lettered."""

from __future__ import annotations

import json

import pytest
from rq.registry import FailedJobRegistry

from portal.models import (
    ConversationStatus,
    CrmDelivery,
    DeliveryStatus,
    Direction,
    Incident,
    IncidentKind,
    Priority,
    Role,
    Severity,
)
from portal.queue import CRM, get_queue
from portal.services import contact_admin, conversations, crm, events
from tests import crm_server, factories

SECRET = "crm-test-secret"


@pytest.fixture
def fake_crm(app):
    with crm_server.configured(app, SECRET) as server:
        yield server


def deliveries(db):
    return db.session.query(CrmDelivery).order_by(CrmDelivery.id).all()


def test_no_delivery_is_recorded_without_a_crm_url(db):
    contact_admin.create(name="Ana", phone="11 98765-4321", by=None)
    db.session.commit()
    assert deliveries(db) == []


def test_contact_created_reaches_the_crm_signed_with_id_type_and_data(db, fake_crm, run_jobs):
    contact = contact_admin.create(name="Ana Souza", phone="(11) 98765-4321", email="ana@example.com", by=None)
    db.session.commit()
    run_jobs(CRM)
    [request] = fake_crm.requests
    assert request.signature_ok
    event = request.event
    assert event["type"] == "contact.created"
    assert event["data"]["contact"] == {
        "id": contact.id,
        "name": "Ana Souza",
        "phone": "+5511987654321",
        "email": "ana@example.com",
        "city": None,
        "custom_fields": {},
        "created_at": event["data"]["contact"]["created_at"],
        "updated_at": event["data"]["contact"]["updated_at"],
    }
    assert event["occurred_at"].endswith("Z")
    [delivery] = deliveries(db)
    db.session.refresh(delivery)
    assert event["id"] == delivery.event_id
    assert delivery.status == DeliveryStatus.delivered
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.delivered_at


def test_signature_is_hmac_of_timestamp_dot_body(db, fake_crm, run_jobs):
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    [request] = fake_crm.requests
    timestamp = request.headers["X-Atende-Timestamp"]
    assert request.headers["X-Atende-Signature"] == crm.sign(SECRET, timestamp, request.body)
    assert crm.sign("another-secret", timestamp, request.body) != request.headers["X-Atende-Signature"]


def test_a_rolled_back_change_sends_nothing(db, fake_crm, run_jobs):
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.rollback()
    run_jobs(CRM)
    assert fake_crm.requests == [] and deliveries(db) == []


def test_conversation_events_carry_status_assignee_and_tags(db, fake_crm, run_jobs):
    supervisor = factories.agent(role=Role.supervisor)
    agent = factories.agent()
    conversation = factories.conversation()
    conversations.set_tags(conversation, ["vip"], by=supervisor)
    conversations.change_status(conversation, ConversationStatus.active, by=supervisor)
    conversations.assign(conversation, agent, by=supervisor)
    db.session.commit()
    run_jobs(CRM)
    by_type = {e["type"]: e["data"] for e in fake_crm.events}
    changed = by_type["conversation.status_changed"]
    assert (changed["old_status"], changed["new_status"]) == ("new", "active")
    assert changed["conversation"]["tags"] == ["vip"]
    assert changed["by_agent_id"] == supervisor.id
    assert by_type["conversation.assigned"]["conversation"]["assigned_to"] == agent.id
    assert by_type["conversation.assigned"]["old_agent_id"] is None


def test_message_created_includes_the_body_for_the_crm_history(db, fake_crm, run_jobs):
    conversation = factories.conversation()
    message = factories.message(conversation, Direction.inbound, body="Quero um orçamento")
    events.emit("message.created", message=message)
    db.session.commit()
    run_jobs(CRM)
    [event] = [e for e in fake_crm.events if e["type"] == "message.created"]
    assert event["data"]["message"]["body"] == "Quero um orçamento"
    assert event["data"]["message"]["contact_id"] == conversation.contact_id


def test_server_errors_are_retried_until_delivered(db, fake_crm, run_jobs):
    fake_crm.fail_next(2, status=503)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    assert [r.status for r in fake_crm.requests] == [503, 503, 200]
    assert len({r.event["id"] for r in fake_crm.requests}) == 1
    [delivery] = deliveries(db)
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.delivered and delivery.attempts == 3


def test_a_4xx_refusal_fails_at_once_without_retry(db, fake_crm, run_jobs):
    fake_crm.fail_next(1, status=422)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    assert [r.status for r in fake_crm.requests] == [422]
    [delivery] = deliveries(db)
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed
    assert delivery.last_status_code == 422
    assert json.loads(delivery.last_response)["status"] == 422


def test_rate_limited_answers_are_retried(db, fake_crm, run_jobs):
    fake_crm.fail_next(1, status=429)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    assert [r.status for r in fake_crm.requests] == [429, 200]


def test_exhausted_retries_mark_the_row_failed_and_leave_the_job_dead_lettered(db, fake_crm, run_jobs):
    fake_crm.fail_next(50, status=500)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    assert len(fake_crm.requests) == crm.MAX_RETRIES + 1
    [delivery] = deliveries(db)
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed
    assert delivery.attempts == crm.MAX_RETRIES + 1
    assert "gave up" in delivery.last_error
    assert FailedJobRegistry(queue=get_queue(CRM)).count == 1


def test_an_unreachable_crm_is_a_transient_error(db, fake_crm, run_jobs, app):
    app.config["CRM_WEBHOOK_URL"] = "http://127.0.0.1:9/nothing-listens-here"
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    [delivery] = deliveries(db)
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed
    assert delivery.last_status_code is None
    assert "could not reach" in delivery.last_error


def test_a_delivered_event_is_never_sent_twice(db, fake_crm, run_jobs):
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    [delivery] = deliveries(db)
    get_queue(CRM).enqueue_call(crm.DELIVER_JOB, args=(delivery.id,))
    run_jobs(CRM)
    assert len(fake_crm.requests) == 1


def test_sla_breach_reaches_the_crm_with_its_incident(db, fake_crm, run_jobs):
    conversation = factories.conversation(priority=Priority.urgent)
    incident = Incident(conversation=conversation, severity=Severity.critical, kind=IncidentKind.sla_breach)
    db.session.add(incident)
    events.emit("sla.breached", conversation=conversation, incident=incident)
    db.session.commit()
    run_jobs(CRM)
    [event] = [e for e in fake_crm.events if e["type"] == "sla.breached"]
    assert event["data"]["incident"]["id"] == incident.id
    assert event["data"]["incident"]["severity"] == "critical"
    assert event["data"]["conversation"]["priority"] == "urgent"
