"""Richer auto-rules (issue 19, item 5): actions beyond a template, conditions, repetition with a
cool-down, no rule triggered by a rule, and one automatic reply per customer message unless a
rule allows a second."""

from __future__ import annotations

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
    MessageTemplate,
    Priority,
    Team,
    utcnow,
)
from portal.services import events, settings
from portal.services.settings import BusinessHours, Holidays
from tests import factories


def _rule(db, trigger_key, *, template=None, **fields) -> AutoRule:
    rule = AutoRule(trigger_key=trigger_key, template=template, **fields)
    db.session.add(rule)
    db.session.flush()
    return rule


def _template(db, key="ola", body="Olá {{1}}!") -> MessageTemplate:
    row = MessageTemplate(template_key=key, body=body)
    db.session.add(row)
    db.session.flush()
    return row


def _receive(conversation, body, at=None):
    at = at or utcnow()
    message = factories.message(conversation, Direction.inbound, body=body, sent_at=at)
    conversation.last_inbound_at = conversation.last_message_at = at
    events.emit("message.created", message=message)
    return message


def _automatic(db, conversation=None) -> list[Message]:
    query = select(Message).where(Message.is_automatic.is_(True), Message.direction == Direction.outbound).order_by(
        Message.id
    )
    if conversation is not None:
        query = query.where(Message.conversation_id == conversation.id)
    return list(db.session.scalars(query))


def test_keyword_routes_to_a_team_with_a_tag_and_a_priority_without_sending(db):
    finance = Team(name="Financeiro")
    db.session.add(finance)
    db.session.flush()
    _rule(db, "message.keyword:boleto", actions={"team_id": finance.id, "tag": "financeiro", "priority": "high"})
    conversation = factories.conversation()
    db.session.commit()

    _receive(conversation, "quero a segunda via do boleto")
    db.session.commit()

    db.session.refresh(conversation)
    assert conversation.team_id == finance.id and conversation.priority == Priority.high
    assert [t.name for t in conversation.tags] == ["financeiro"]
    assert _automatic(db) == []
    assert db.session.scalars(select(AutoRuleFiring)).one().message_id is None


def test_assign_to_agent_set_status_and_send_text_inside_the_window_only(db):
    agent = factories.agent(name="Bia")
    _rule(db, "message.keyword:cancelar", actions={"agent_id": agent.id, "status": "waiting", "text": "Recebido!"})
    inside = factories.conversation()
    outside = factories.conversation(last_inbound_at=utcnow() - timedelta(days=2))
    db.session.commit()

    _receive(inside, "quero cancelar")
    db.session.commit()
    db.session.refresh(inside)
    assert inside.assigned_to == agent.id and inside.status == ConversationStatus.waiting
    [text] = _automatic(db, inside)
    assert (text.body, text.message_type, text.sender_agent_id) == ("Recebido!", "text", None)

    # The window is judged when the rule runs: a stale conversation gets the changes, no text.
    events.emit("message.created", message=factories.message(outside, Direction.outbound, body="nota"))
    outside.last_inbound_at = utcnow() - timedelta(days=2)
    from portal.services import rules

    [(rule, _trigger)] = rules.enabled_rules(rules.TriggerKind.message_keyword)
    assert rules.fire(rule, outside) is not None
    db.session.commit()
    db.session.refresh(outside)
    assert outside.assigned_to == agent.id and _automatic(db, outside) == []


@pytest.mark.parametrize(
    ("conditions", "fires"),
    [
        ({"priority": "high"}, True),
        ({"priority": "low"}, False),
        ({"channel": "whatsapp"}, True),
        ({"channel": "email"}, False),
        ({"tag": "vip"}, True),
        ({"tag": "outra"}, False),
        ({"contact_field": "city", "contact_value": "sao paulo"}, True),
        ({"contact_field": "city", "contact_value": "Rio"}, False),
        ({"contact_field": "email", "contact_value": ""}, False),
        ({"business_hours": "inside"}, False),
        ({"business_hours": "outside"}, True),
    ],
)
def test_conditions_must_all_hold(db, conditions, fires):
    settings.put("business_hours", BusinessHours({d: (time(8), time(18)) for d in range(5)}).to_json())
    settings.put("holidays", Holidays(national=False).to_json())
    settings.put("time_zone", "America/Sao_Paulo")
    _rule(db, "message.keyword:oi", template=_template(db), conditions=conditions)
    conversation = factories.conversation(factories.contact(city="São Paulo"), priority=Priority.high)
    conversation.tags = [factories_tag(db, "vip")]
    db.session.commit()

    _receive(conversation, "oi", at=datetime(2026, 12, 5, 15, 0))  # a Saturday noon in São Paulo
    db.session.commit()
    assert len(_automatic(db)) == (1 if fires else 0)


def factories_tag(db, name):
    from portal.services.conversations import get_or_create_tag

    return get_or_create_tag(name)


def test_inbox_and_team_conditions(db):
    sales = Team(name="Vendas")
    db.session.add(sales)
    db.session.flush()
    other_inbox = factories.inbox()
    _rule(db, "message.keyword:preco", template=_template(db), conditions={"team_id": sales.id, "inbox_id": other_inbox.id})
    right = factories.conversation(inbox=other_inbox, team_id=sales.id)
    wrong_team = factories.conversation(inbox=other_inbox)
    wrong_inbox = factories.conversation(team_id=sales.id)
    db.session.commit()
    for conversation in (right, wrong_team, wrong_inbox):
        _receive(conversation, "qual o preço?")
    db.session.commit()
    assert [m.conversation_id for m in _automatic(db)] == [right.id]


def test_every_time_with_a_cool_down(db):
    _rule(db, "message.keyword:ajuda", template=_template(db), cooldown_minutes=30)
    conversation = factories.conversation()
    db.session.commit()
    start = utcnow()
    for minutes in (0, 10, 31, 45, 70):
        _receive(conversation, "ajuda", at=start + timedelta(minutes=minutes))
        db.session.commit()
    assert len(_automatic(db)) == 3  # at 0, 31 and 70 minutes
    assert db.session.scalars(select(AutoRuleFiring)).one().fire_count == 3


def test_a_rules_own_changes_trigger_no_other_rule(db):
    _rule(db, "message.keyword:urgente", actions={"status": "waiting"})
    _rule(db, "status.changed:waiting", template=_template(db))
    conversation = factories.conversation()
    db.session.commit()

    _receive(conversation, "é urgente")
    db.session.commit()
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.waiting and _automatic(db) == []


def test_one_inbound_message_gets_one_automatic_reply_unless_a_rule_allows_a_second(db):
    _rule(db, "message.keyword:boleto", template=_template(db, "a", "Boleto: {{1}}"))
    second = _rule(db, "message.keyword:segunda via", template=_template(db, "b", "Segunda via"))
    conversation = factories.conversation()
    db.session.commit()

    _receive(conversation, "segunda via do boleto")
    db.session.commit()
    assert [m.body for m in _automatic(db)] == ["Boleto: " + conversation.contact.name.split()[0]]

    second.allow_second_reply = True
    other = factories.conversation()
    db.session.commit()
    _receive(other, "segunda via do boleto")
    db.session.commit()
    assert len(_automatic(db, other)) == 2


def test_automatic_messages_trigger_no_rule(db):
    _rule(db, "message.keyword:ola", template=_template(db))
    conversation = factories.conversation()
    db.session.commit()
    message = factories.message(conversation, Direction.inbound, body="ola", is_automatic=True)
    events.emit("message.created", message=message)
    db.session.commit()
    assert _automatic(db) == [] and conversation.channel == Channel.whatsapp
