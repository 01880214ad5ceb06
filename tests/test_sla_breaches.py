"""The breach job: one sla_breach incident per conversation past its first-response (or resolution)
target, with business hours across a weekend, severity by priority, and the sla.breached event.
Service calls pass `now` explicitly, so the clock is frozen without patching."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.jobs.schedule import SCHEDULE
from portal.models import (
    AuditLog,
    ConversationStatus,
    Incident,
    IncidentKind,
    Priority,
    Severity,
    SlaMetric,
    SlaTarget,
)
from portal.queue import DEFAULT, get_queue
from portal.services import events, incidents, settings, sla
from portal.services.settings import BusinessHours
from tests import factories


def sp(*args) -> datetime:
    """A Sao Paulo (UTC-3) wall-clock time as naive UTC."""
    return datetime(*args) + timedelta(hours=3)


@pytest.fixture
def breached_events(monkeypatch):
    """What `sla.breached` carried, recorded instead of the real subscribers (CRM delivery)."""
    seen = []
    monkeypatch.setitem(events._handlers, "sla.breached", [lambda _name, **data: seen.append(data)])
    return seen


@pytest.fixture
def weekday_hours(db):
    settings.put("business_hours", BusinessHours({d: (time(8), time(18)) for d in range(5)}).to_json())
    settings.put("time_zone", "America/Sao_Paulo")


def breach_incidents(db):
    return list(db.session.scalars(select(Incident).where(Incident.kind == IncidentKind.sla_breach)))


def test_a_friday_evening_message_breaches_only_on_monday_morning(db, weekday_hours, breached_events):
    # 2026-11-27 is a Friday (the 20th, Black Awareness Day, is a national holiday: closed all day).
    conversation = factories.conversation(priority=Priority.urgent, started_at=sp(2026, 11, 27, 17, 50))
    db.session.commit()

    for now in (
        sp(2026, 11, 27, 18, 30),
        sp(2026, 11, 28, 12, 0),
        sp(2026, 11, 30, 7, 59),
        sp(2026, 11, 30, 8, 5),
    ):
        assert sla.check_breaches(now) == [], now  # 10 min on Friday, 5 min on Monday: not over 15 min yet
    opened = sla.check_breaches(sp(2026, 11, 30, 8, 6))
    db.session.commit()

    assert [i.conversation_id for i in opened] == [conversation.id]
    incident = breach_incidents(db)[0]
    assert incident.severity == Severity.critical
    assert "First response target missed" in incident.notes
    assert "15m" in incident.notes and "16m" in incident.notes and "1m over" in incident.notes
    assert "business hours" in incident.notes
    assert breached_events == [{"conversation": conversation, "incident": incident}]


def test_without_business_hours_the_weekend_counts(db, breached_events):
    factories.conversation(priority=Priority.urgent, started_at=datetime(2026, 11, 20, 20, 50))
    db.session.commit()
    assert len(sla.check_breaches(datetime(2026, 11, 20, 21, 6))) == 1


@pytest.mark.parametrize(
    ("priority", "severity", "target"),
    [
        (Priority.urgent, Severity.critical, timedelta(minutes=15)),
        (Priority.high, Severity.high, timedelta(hours=1)),
        (Priority.normal, Severity.medium, timedelta(hours=4)),
        (Priority.low, Severity.low, timedelta(hours=24)),
    ],
)
def test_severity_follows_priority_at_the_default_targets(db, breached_events, priority, severity, target):
    start = datetime(2026, 11, 24, 12, 0)
    factories.conversation(priority=priority, started_at=start)
    db.session.commit()
    assert sla.check_breaches(start + target) == []
    (incident,) = sla.check_breaches(start + target + timedelta(seconds=1))
    assert incident.severity == severity


def test_one_incident_per_conversation_however_often_the_job_runs(db, breached_events):
    start = datetime(2026, 11, 24, 12, 0)
    conversation = factories.conversation(priority=Priority.high, started_at=start)
    db.session.commit()
    assert len(sla.check_breaches(start + timedelta(hours=2))) == 1
    db.session.commit()
    assert sla.check_breaches(start + timedelta(hours=3)) == []
    db.session.commit()
    assert (
        db.session.scalar(select(func.count(Incident.id)).where(Incident.conversation_id == conversation.id))
        == 1
    )
    assert len(breached_events) == 1


def test_a_racing_worker_that_loses_gets_none_and_keeps_its_transaction(db):
    """Two workers saw the same breach: the unique index lets one insert; the other's savepoint
    rolls back alone, and the rest of its unit of work still commits."""
    conversation = factories.conversation()
    other = factories.conversation()
    assert incidents.open_sla_breach(conversation, Severity.medium, "first") is not None
    assert incidents.open_sla_breach(conversation, Severity.medium, "second") is None
    assert incidents.open_sla_breach(other, Severity.medium, "other") is not None
    db.session.commit()
    assert sorted(i.notes for i in breach_incidents(db)) == ["first", "other"]


def test_a_manual_incident_does_not_stop_the_breach_incident(db, breached_events):
    start = datetime(2026, 11, 24, 12, 0)
    conversation = factories.conversation(priority=Priority.urgent, started_at=start)
    incidents.create_manual(conversation, Severity.low, "customer upset", by=factories.agent())
    db.session.commit()
    assert len(sla.check_breaches(start + timedelta(hours=1))) == 1


def test_answered_in_time_or_closed_conversations_do_not_breach(db, breached_events):
    start = datetime(2026, 11, 24, 12, 0)
    answered = factories.conversation(priority=Priority.urgent, started_at=start)
    db.session.add(
        SlaMetric(
            conversation_id=answered.id, first_response_at=start + timedelta(minutes=5), response_time_sec=300
        )
    )
    factories.conversation(
        priority=Priority.urgent, started_at=start, status=ConversationStatus.closed, closed_at=start
    )
    factories.conversation(
        priority=Priority.urgent, started_at=start, status=ConversationStatus.lost, closed_at=start
    )
    db.session.commit()
    assert sla.check_breaches(start + timedelta(days=2)) == []


def test_a_late_first_response_is_still_a_breach(db, breached_events):
    start = datetime(2026, 11, 24, 12, 0)
    late = factories.conversation(priority=Priority.urgent, started_at=start)
    db.session.add(
        SlaMetric(
            conversation_id=late.id, first_response_at=start + timedelta(minutes=40), response_time_sec=2400
        )
    )
    db.session.commit()
    (incident,) = sla.check_breaches(start + timedelta(minutes=41))
    assert "answered after 40m" in incident.notes and "25m over" in incident.notes


def test_a_missed_resolution_target_opens_the_incident(db, breached_events):
    db.session.add(SlaTarget(priority=Priority.normal, first_response_sec=4 * 3600, resolution_sec=8 * 3600))
    start = datetime(2026, 11, 24, 8, 0)
    conversation = factories.conversation(priority=Priority.normal, started_at=start)
    db.session.add(
        SlaMetric(
            conversation_id=conversation.id,
            first_response_at=start + timedelta(minutes=5),
            response_time_sec=300,
        )
    )
    db.session.commit()
    assert sla.check_breaches(start + timedelta(hours=8)) == []
    (incident,) = sla.check_breaches(start + timedelta(hours=9))
    assert incident.severity == Severity.medium
    assert incident.notes.startswith("Resolution target missed") and "1h 00m over" in incident.notes


def test_the_scheduled_job_opens_incidents_in_the_worker_and_audits_them(db, run_jobs, breached_events):
    assert any(s.func == "portal.jobs.sla.check_sla_breaches" and s.queue == DEFAULT for s in SCHEDULE)
    conversation = factories.conversation(priority=Priority.low, started_at=datetime(2026, 1, 1))
    db.session.commit()
    get_queue(DEFAULT).enqueue_call("portal.jobs.sla.check_sla_breaches")
    run_jobs(DEFAULT)
    db.session.expire_all()
    (incident,) = breach_incidents(db)
    assert incident.conversation_id == conversation.id
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "incident.created")).one()
    assert audit.target_id == str(incident.id) and audit.actor_id is None


def test_a_backlog_is_worked_off_oldest_first_in_bounded_runs(db, breached_events):
    start = datetime(2026, 11, 24, 12, 0)
    made = [
        factories.conversation(priority=Priority.urgent, started_at=start + timedelta(minutes=i))
        for i in range(3)
    ]
    db.session.commit()
    now = start + timedelta(hours=1)
    assert [b.conversation_id for b in sla.find_breaches(now, limit=2)] == [made[0].id, made[1].id]
    assert len(sla.check_breaches(now)) == 3
