"""The auto-rules engine: each trigger sends its template through the outbound queue, marked
automatic, at most once per conversation per rule, and never because of an automatic message."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.models import (
    AutoRule,
    AutoRuleFiring,
    Channel,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    MessageTemplate,
    utcnow,
)
from portal.queue import redis_connection
from portal.services import conversations, events, outbound, rules, settings
from portal.services.settings import BusinessHours
from portal.worker_process import enqueue_due
from tests import factories


def _rule(db, trigger_key, body="Olá {{1}}, já vamos responder.", enabled=True, key=None):
    template = MessageTemplate(template_key=key or f"t{abs(hash(trigger_key)) % 10**8}", body=body)
    rule = AutoRule(trigger_key=trigger_key, template=template, enabled=enabled)
    db.session.add(rule)
    db.session.flush()
    return rule


def _automatic_messages(db, conversation=None):
    query = select(Message).where(Message.is_automatic.is_(True)).order_by(Message.id)
    if conversation is not None:
        query = query.where(Message.conversation_id == conversation.id)
    return list(db.session.scalars(query))


def _receive(db, conversation, body, sent_at=None):
    """An inbound message as the webhook processing stores it: the row, then the domain event."""
    message = factories.message(conversation, Direction.inbound, body=body, sent_at=sent_at or utcnow())
    conversation.last_inbound_at = conversation.last_message_at = message.sent_at
    events.emit("message.created", message=message)
    return message


def test_opening_a_conversation_sends_the_welcome_template_with_the_first_name(db):
    rule = _rule(db, "conversation.opened")
    contact = factories.contact(name="Maria da Silva")
    db.session.commit()

    conversation, created = conversations.open_or_reuse(contact, inbox=factories.default_inbox(), at=utcnow())
    db.session.commit()

    assert created
    [message] = _automatic_messages(db)
    assert message.conversation_id == conversation.id
    assert message.direction == Direction.outbound and message.status == MessageStatus.queued
    assert message.template_id == rule.template_id and message.template_params == ["Maria"]
    assert message.body == "Olá Maria, já vamos responder." and message.sender_agent_id is None
    firing = db.session.scalars(select(AutoRuleFiring)).one()
    assert (firing.rule_id, firing.conversation_id, firing.message_id) == (
        rule.id,
        conversation.id,
        message.id,
    )


def test_keyword_matches_whole_words_ignoring_case_and_accents(db):
    _rule(db, "message.keyword:preço")
    matched, other = factories.conversation(), factories.conversation()
    db.session.commit()

    _receive(db, other, "Vocês têm os preços atualizados?")
    _receive(db, matched, "Qual o PRECO do plano?")
    db.session.commit()

    assert [m.conversation_id for m in _automatic_messages(db)] == [matched.id]


def test_keyword_phrase_must_appear_in_a_row(db):
    _rule(db, "message.keyword:segunda via")
    hit, miss = factories.conversation(), factories.conversation()
    db.session.commit()

    _receive(db, miss, "a via chegou na segunda")
    _receive(db, hit, "Preciso da 2ª... digo, SEGUNDA VIA do boleto")
    db.session.commit()

    assert [m.conversation_id for m in _automatic_messages(db)] == [hit.id]


@pytest.fixture
def weekday_business_hours(db):
    hours = BusinessHours({day: (time(9), time(18)) for day in range(5)})
    settings.put("business_hours", hours.to_json())
    settings.put("time_zone", "America/Sao_Paulo")
    db.session.commit()


# 2026-11-28 is a Saturday; São Paulo is UTC-3.
SATURDAY_NOON_UTC = datetime(2026, 11, 28, 15, 0)
FRIDAY_NOON_UTC = datetime(2026, 11, 27, 15, 0)
FRIDAY_EVENING_UTC = datetime(2026, 11, 27, 21, 30)


@pytest.mark.parametrize(
    ("sent_at", "fires"),
    [(SATURDAY_NOON_UTC, True), (FRIDAY_EVENING_UTC, True), (FRIDAY_NOON_UTC, False)],
)
def test_outside_business_hours_follows_the_local_opening_hours(db, weekday_business_hours, sent_at, fires):
    _rule(db, "outside_business_hours")
    conversation = factories.conversation()
    db.session.commit()

    _receive(db, conversation, "alguém aí?", sent_at=sent_at)
    db.session.commit()

    assert len(_automatic_messages(db)) == (1 if fires else 0)


def test_without_business_hours_no_message_is_outside_them(db):
    _rule(db, "outside_business_hours")
    conversation = factories.conversation()
    db.session.commit()

    _receive(db, conversation, "alguém aí?", sent_at=SATURDAY_NOON_UTC)
    db.session.commit()

    assert _automatic_messages(db) == []


def test_status_change_fires_the_rule_for_that_status_only(db):
    _rule(db, "status.changed:closed", body="Obrigado pelo contato!")
    supervisor = factories.agent()
    conversation = factories.conversation()
    db.session.commit()

    conversations.change_status(conversation, ConversationStatus.waiting, by=supervisor)
    db.session.commit()
    assert _automatic_messages(db) == []

    conversations.change_status(conversation, ConversationStatus.closed, by=supervisor)
    db.session.commit()
    [message] = _automatic_messages(db)
    assert message.body == "Obrigado pelo contato!" and message.template_params == []


def _tick(app, run_jobs):
    """One minute of the worker's timer: enqueue the scheduled jobs, then run them."""
    assert "portal.jobs.rules.fire_timed_rules" in enqueue_due(redis_connection(app))
    run_jobs("default")


def test_no_reply_after_fires_from_the_scheduled_job_once_the_wait_is_over(app, db, run_jobs):
    _rule(db, "no_reply_after:30")
    waiting = factories.conversation()
    recent = factories.conversation()
    answered = factories.conversation()
    factories.message(waiting, Direction.inbound, sent_at=utcnow() - timedelta(minutes=45))
    factories.message(recent, Direction.inbound, sent_at=utcnow() - timedelta(minutes=10))
    factories.message(answered, Direction.inbound, sent_at=utcnow() - timedelta(minutes=50))
    factories.message(
        answered,
        Direction.outbound,
        sent_at=utcnow() - timedelta(minutes=40),
        sender_agent_id=factories.agent().id,
    )
    db.session.commit()

    _tick(app, run_jobs)

    db.session.expire_all()
    assert [m.conversation_id for m in _automatic_messages(db)] == [waiting.id]


def test_an_automatic_acknowledgement_is_not_a_reply(app, db, run_jobs):
    _rule(db, "no_reply_after:30", body="Ainda estamos verificando.")
    conversation = factories.conversation()
    factories.message(conversation, Direction.inbound, sent_at=utcnow() - timedelta(minutes=45))
    factories.message(
        conversation, Direction.outbound, sent_at=utcnow() - timedelta(minutes=44), is_automatic=True
    )
    db.session.commit()

    _tick(app, run_jobs)

    db.session.expire_all()
    assert [m.body for m in _automatic_messages(db) if m.template_id] == ["Ainda estamos verificando."]


def test_no_reply_after_ignores_closed_conversations(app, db, run_jobs):
    _rule(db, "no_reply_after:30")
    conversation = factories.conversation(status=ConversationStatus.closed)
    factories.message(conversation, Direction.inbound, sent_at=utcnow() - timedelta(minutes=45))
    db.session.commit()

    _tick(app, run_jobs)

    assert _automatic_messages(db) == []


def test_a_failed_agent_message_fires_message_failed(db):
    _rule(db, "message.failed", body="Tivemos um problema, tente de novo.")
    conversation = factories.conversation()
    agent = factories.agent()
    reply = outbound.queue_reply(conversation, "Segue o link", by=agent)
    db.session.commit()

    outbound.fail_after_retries(reply, RuntimeError("timeout"))
    db.session.commit()

    [message] = _automatic_messages(db)
    assert message.conversation_id == conversation.id


def test_a_failed_automatic_message_fires_nothing(db):
    _rule(db, "message.failed")
    conversation = factories.conversation()
    automatic = factories.message(
        conversation, Direction.outbound, status=MessageStatus.queued, is_automatic=True
    )
    db.session.commit()

    outbound.fail_after_retries(automatic, RuntimeError("timeout"))
    db.session.commit()

    assert _automatic_messages(db) == [automatic]


def test_a_rule_fires_at_most_once_per_conversation(db):
    _rule(db, "message.keyword:boleto")
    conversation = factories.conversation()
    db.session.commit()

    for _ in range(3):
        _receive(db, conversation, "cadê o boleto?")
        db.session.commit()

    assert len(_automatic_messages(db)) == 1
    assert db.session.query(AutoRuleFiring).count() == 1


def test_the_same_rule_fires_again_on_another_conversation_of_the_contact(db):
    _rule(db, "status.changed:closed", body="Obrigado!")
    agent = factories.agent()
    contact = factories.contact()
    first = factories.conversation(contact)
    db.session.commit()
    conversations.change_status(first, ConversationStatus.closed, by=agent)
    db.session.commit()

    second, _created = conversations.open_or_reuse(contact, inbox=factories.default_inbox(), at=utcnow())
    conversations.change_status(second, ConversationStatus.closed, by=agent)
    db.session.commit()

    assert [m.conversation_id for m in _automatic_messages(db)] == [first.id, second.id]


def test_an_automatic_message_triggers_no_other_rule(db):
    _rule(db, "conversation.opened", body="Olá {{1}}! Quer saber o preço? Responda aqui.", key="welcome")
    _rule(db, "message.keyword:preço", body="Nossos preços: ...", key="prices")
    contact = factories.contact()
    db.session.commit()

    conversations.open_or_reuse(contact, inbox=factories.default_inbox(), at=utcnow())
    db.session.commit()

    assert [m.template.template_key for m in _automatic_messages(db)] == ["welcome"]


def test_disabled_rules_never_fire(db):
    _rule(db, "conversation.opened", enabled=False)
    db.session.commit()

    conversations.open_or_reuse(factories.contact(), inbox=factories.default_inbox(), at=utcnow())
    db.session.commit()

    assert _automatic_messages(db) == []
    assert db.session.query(AutoRuleFiring).count() == 0


def test_a_rule_that_cannot_send_leaves_the_triggering_change_intact(db):
    _rule(db, "status.changed:waiting")
    agent = factories.agent()
    conversation = factories.conversation(channel=Channel.email)
    db.session.commit()

    assert conversations.change_status(conversation, ConversationStatus.waiting, by=agent)
    db.session.commit()

    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.waiting
    assert _automatic_messages(db) == [] and db.session.query(AutoRuleFiring).count() == 0


def test_a_duplicate_firing_from_a_racing_worker_loses_quietly(db, monkeypatch):
    """Two workers can both see "not fired yet"; the unique firing row lets one win, and the
    loser's savepoint rolls back without spoiling the rest of its transaction."""
    rule = _rule(db, "status.changed:waiting")
    agent = factories.agent()
    conversation = factories.conversation()
    db.session.add(AutoRuleFiring(rule_id=rule.id, conversation_id=conversation.id))
    db.session.commit()
    monkeypatch.setattr(rules, "has_fired", lambda rule, conversation: False)

    conversations.change_status(conversation, ConversationStatus.waiting, by=agent)
    db.session.commit()

    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.waiting
    assert _automatic_messages(db) == [] and db.session.query(AutoRuleFiring).count() == 1
