"""Snoozes (portal/services/snooze.py) with a clock the tests hold: a snoozed conversation leaves
the open tabs for Snoozed, comes back once when the scheduled job runs at or after its time (not
before), at once when the customer writes, and never when it was closed meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.jobs.snooze import wake_snoozed
from portal.models import ACTIVITY, AuditLog, ConversationStatus, Message, Role
from portal.services import conversations, inbox_queries, snooze
from portal.services.conversations import ConversationError
from portal.services.inbox_queries import InboxFilter
from tests import factories

NOW = datetime(2026, 12, 2, 15, 0)


def _tab(agent, tab: str) -> list[int]:
    return [row.conversation.id for row in inbox_queries.list_page(agent, InboxFilter(assignee=tab)).rows]


def _lines(conversation) -> list[dict]:
    rows = db_scalars(select(Message).where(Message.conversation_id == conversation.id, Message.message_type == ACTIVITY))
    return [(m.payload_json or {}) for m in rows]


def db_scalars(query):
    from portal.extensions import db

    return list(db.session.scalars(query.order_by(Message.id)))


def test_a_snooze_moves_the_conversation_to_the_snoozed_tab_and_back_once_on_time(db):
    agent = factories.agent()
    conversation = factories.conversation(assigned_to=agent.id)
    db.session.commit()
    until = NOW + timedelta(hours=2)

    snooze.snooze(conversation, until, by=agent, now=NOW)
    db.session.commit()
    assert _tab(agent, inbox_queries.MINE) == [] and _tab(agent, inbox_queries.ALL) == []
    assert _tab(agent, inbox_queries.SNOOZED) == [conversation.id]
    assert inbox_queries.tab_counts(agent, InboxFilter())[inbox_queries.SNOOZED] == 1

    assert wake_snoozed(until - timedelta(seconds=1)) == 0
    assert _tab(agent, inbox_queries.SNOOZED) == [conversation.id]
    assert wake_snoozed(until) == 1
    assert wake_snoozed(until + timedelta(minutes=1)) == 0

    db.session.expire_all()
    assert _tab(agent, inbox_queries.MINE) == [conversation.id] and _tab(agent, inbox_queries.SNOOZED) == []
    assert _lines(conversation) == [
        {"activity": "snoozed", "until": until.isoformat()},
        {"activity": "snooze_ended", "reason": "time"},
    ]
    actions = list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions[-2:] == ["conversation.snoozed", "conversation.snooze_ended"]


def test_the_customer_writing_ends_a_snooze_and_the_job_does_not_bring_it_back_again(db, deliver, whatsapp_payload):
    agent = factories.agent()
    contact = factories.contact(phone="+5521998765432")
    conversation = factories.conversation(contact)
    db.session.commit()
    snooze.snooze(conversation, None, by=agent)
    db.session.commit()
    assert _tab(agent, inbox_queries.SNOOZED) == [conversation.id]

    deliver(whatsapp_payload("text"))

    db.session.expire_all()
    assert not conversation.is_snoozed
    assert _tab(agent, inbox_queries.SNOOZED) == []
    assert wake_snoozed(datetime(2100, 1, 1)) == 0
    assert _lines(conversation)[-1] == {"activity": "snooze_ended", "reason": "customer"}


def test_closing_a_snoozed_conversation_ends_its_snooze_silently(db):
    agent = factories.agent(role=Role.supervisor)
    conversation = factories.conversation()
    db.session.commit()
    snooze.snooze(conversation, NOW + timedelta(hours=1), by=agent, now=NOW)
    conversations.change_status(conversation, ConversationStatus.closed, by=agent)
    db.session.commit()
    assert wake_snoozed(NOW + timedelta(days=1)) == 0
    assert _lines(conversation) == [{"activity": "snoozed", "until": (NOW + timedelta(hours=1)).isoformat()}]


def test_refusals_a_past_time_or_a_closed_conversation(db):
    agent = factories.agent()
    conversation = factories.conversation()
    closed = factories.conversation(status=ConversationStatus.closed)
    db.session.commit()
    with pytest.raises(ConversationError, match="in the future"):
        snooze.snooze(conversation, NOW - timedelta(minutes=1), by=agent, now=NOW)
    with pytest.raises(ConversationError, match="open conversation"):
        snooze.snooze(closed, None, by=agent)


def test_the_choices_are_read_in_the_installations_time_zone():
    zone = "America/Sao_Paulo"  # UTC-3
    wednesday = datetime(2026, 12, 2, 15, 0)  # 12:00 local
    assert snooze.until_for("1h", "", zone, wednesday) == datetime(2026, 12, 2, 16, 0)
    assert snooze.until_for("tomorrow", "", zone, wednesday) == datetime(2026, 12, 3, 12, 0)
    assert snooze.until_for("next_week", "", zone, wednesday) == datetime(2026, 12, 7, 12, 0)
    assert snooze.until_for("custom", "2026-12-05T08:30", zone, wednesday) == datetime(2026, 12, 5, 11, 30)
    assert snooze.until_for("customer", "", zone, wednesday) is None
    with pytest.raises(ConversationError):
        snooze.until_for("custom", "amanhã", zone, wednesday)


def test_the_snooze_route_and_unsnooze(client, db, login_as):
    agent = login_as(Role.agent)
    conversation = factories.conversation(assigned_to=agent.id)
    db.session.commit()
    page = client.post(f"/conversations/{conversation.id}/snooze", data={"until": "customer"},
                       headers={"HX-Request": "true", "HX-Target": "conversation-pane"}).get_data(as_text=True)
    assert "Snoozed until the customer writes" in page
    assert "snoozed the conversation until the customer writes" in page
    page = client.post(f"/conversations/{conversation.id}/unsnooze",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "brought the conversation back from its snooze" in page
