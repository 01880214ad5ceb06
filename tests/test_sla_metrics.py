"""SLA bookkeeping: one sla_metrics row per conversation, the first human response and its time
(business seconds when business hours are set), and resolved_at following closed/lost/reopen."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.models import ConversationStatus, Direction, MessageStatus, Role, SlaMetric, utcnow
from portal.services import conversations, events, outbound, settings
from portal.services.settings import BusinessHours
from tests import factories


def sp(*args) -> datetime:
    """A Sao Paulo (UTC-3) wall-clock time as naive UTC."""
    return datetime(*args) + timedelta(hours=3)


def metric(db, conversation):
    return db.session.scalars(select(SlaMetric).where(SlaMetric.conversation_id == conversation.id)).one()


def started(at):
    conversation, _ = conversations.open_or_reuse(factories.contact(), inbox=factories.default_inbox(), at=at)
    return conversation


def reply(conversation, agent, at, **fields):
    message = factories.message(
        conversation, Direction.outbound, sender_agent_id=agent.id if agent else None, sent_at=at, **fields
    )
    events.emit("message.created", message=message)
    return message


def test_a_new_conversation_gets_its_sla_row(db):
    conversation, created = conversations.open_or_reuse(factories.contact(), inbox=factories.default_inbox(), at=utcnow())
    db.session.commit()
    assert created
    row = metric(db, conversation)
    assert (row.first_response_at, row.response_time_sec, row.resolved_at) == (None, None, None)


def test_an_agent_reply_records_the_first_response_in_wall_clock_seconds(db):
    agent = factories.agent()
    conversation = factories.conversation(started_at=utcnow() - timedelta(minutes=7))
    message = outbound.queue_reply(conversation, "Olá!", by=agent)
    db.session.commit()
    row = metric(db, conversation)
    assert row.first_response_at == message.sent_at
    assert 419 <= row.response_time_sec <= 421


def test_automatic_and_inbound_messages_are_not_a_first_response(db):
    agent = factories.agent()
    start = datetime(2026, 11, 24, 12, 0)
    conversation = started(start)
    reply(conversation, None, start + timedelta(minutes=1), is_automatic=True)
    events.emit(
        "message.created",
        message=factories.message(conversation, Direction.inbound, sent_at=start + timedelta(minutes=2)),
    )
    reply(conversation, agent, start + timedelta(minutes=3), is_automatic=True)
    assert metric(db, conversation).first_response_at is None

    reply(conversation, agent, start + timedelta(minutes=9))
    reply(conversation, agent, start + timedelta(minutes=12))
    db.session.commit()
    row = metric(db, conversation)
    assert row.first_response_at == start + timedelta(minutes=9)
    assert row.response_time_sec == 9 * 60


def test_a_reply_written_before_the_conversation_started_does_not_count(db):
    agent = factories.agent()
    start = datetime(2026, 11, 24, 12, 0)
    conversation = started(start)
    reply(conversation, agent, start - timedelta(minutes=5))
    assert metric(db, conversation).first_response_at is None


def test_with_business_hours_the_weekend_does_not_count(db):
    settings.put("business_hours", BusinessHours({d: (time(8), time(18)) for d in range(5)}).to_json())
    settings.put("time_zone", "America/Sao_Paulo")
    agent = factories.agent()
    conversation = started(sp(2026, 11, 27, 17, 50))  # a Friday (not the 20th: a national holiday)
    reply(conversation, agent, sp(2026, 11, 30, 8, 10))  # Monday
    db.session.commit()
    assert metric(db, conversation).response_time_sec == 20 * 60


def test_closing_or_losing_sets_resolved_at_and_reopening_clears_it(db):
    supervisor = factories.agent(role=Role.supervisor)
    conversation = factories.conversation()
    conversations.change_status(conversation, ConversationStatus.closed, by=supervisor)
    assert metric(db, conversation).resolved_at == conversation.closed_at is not None

    conversations.change_status(conversation, ConversationStatus.active, by=supervisor)
    assert metric(db, conversation).resolved_at is None

    conversations.change_status(conversation, ConversationStatus.lost, by=supervisor)
    db.session.commit()
    assert metric(db, conversation).resolved_at == conversation.closed_at


def test_a_reply_that_failed_to_send_is_not_the_first_response(db):
    agent = factories.agent()
    start = datetime(2026, 11, 24, 12, 0)
    conversation = started(start)
    first = reply(conversation, agent, start + timedelta(minutes=2), status=MessageStatus.queued)
    second = reply(conversation, agent, start + timedelta(minutes=6), status=MessageStatus.queued)
    assert metric(db, conversation).response_time_sec == 120

    def fail(message):
        message.status = MessageStatus.failed
        events.emit("message.status_changed", message=message, old=MessageStatus.queued)

    fail(first)
    assert (metric(db, conversation).first_response_at, metric(db, conversation).response_time_sec) == (
        second.sent_at,
        360,
    )
    fail(second)
    assert metric(db, conversation).first_response_at is None

    second.status = MessageStatus.queued  # an agent retried it
    events.emit("message.status_changed", message=second, old=MessageStatus.failed)
    db.session.commit()
    assert metric(db, conversation).response_time_sec == 360
