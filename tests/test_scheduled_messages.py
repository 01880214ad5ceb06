"""Scheduled messages (issue 18, part 4): a row first, sent by the worker when due on a controlled
clock (send_due's `now`), re-checked against the window when sent, listed and cancellable, never
sent twice."""

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db as _db
from portal.jobs.schedule import SCHEDULE
from portal.models import Message, MessageTemplate, Role, ScheduledMessage, ScheduledMessageStatus, utcnow
from portal.queue import OUTBOUND
from portal.services import scheduled_messages
from portal.services.scheduled_messages import ScheduleError
from tests import factories


def _template():
    template = MessageTemplate(template_key="lembrete", language="pt_BR", body="Oi {{1}}, sua consulta é amanhã.")
    _db.session.add(template)
    _db.session.flush()
    return template


def _noop():
    _db.session.commit()


def test_a_scheduled_template_is_sent_on_time_and_only_once(db, run_jobs, graph_simulator):
    agent = factories.agent()
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(days=3))
    send_at = utcnow() + timedelta(hours=2)
    row = scheduled_messages.schedule(
        conversation, by=agent, send_at=send_at, template=_template(), params=["Ana"]
    )
    db.session.commit()
    assert scheduled_messages.send_due(now=send_at - timedelta(seconds=1), commit=_noop) == (0, 0)
    assert db.session.query(Message).count() == 0
    assert scheduled_messages.send_due(now=send_at, commit=_noop) == (1, 0)
    assert scheduled_messages.send_due(now=send_at + timedelta(minutes=1), commit=_noop) == (0, 0)
    db.session.expire_all()
    message = db.session.scalar(select(Message))
    assert row.status == ScheduledMessageStatus.sent and row.message_id == message.id
    assert message.body == "Oi Ana, sua consulta é amanhã." and message.sender_agent_id == agent.id
    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["type"] == "template"


def test_free_text_whose_window_closed_meanwhile_fails_with_the_reason_and_is_not_sent(db, graph_simulator):
    agent = factories.agent()
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=1))
    send_at = utcnow() + timedelta(hours=1)
    row = scheduled_messages.schedule(conversation, by=agent, send_at=send_at, body="Conseguiu resolver?")
    db.session.commit()
    conversation.last_inbound_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert scheduled_messages.send_due(now=send_at, commit=_noop) == (0, 1)
    db.session.expire_all()
    assert row.status == ScheduledMessageStatus.failed and "24 hours" in row.error
    assert db.session.query(Message).count() == 0


def test_free_text_inside_the_window_is_queued(db):
    agent = factories.agent()
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=1))
    send_at = utcnow() + timedelta(minutes=30)
    scheduled_messages.schedule(conversation, by=agent, send_at=send_at, body="Conseguiu resolver?")
    db.session.commit()
    assert scheduled_messages.send_due(now=send_at + timedelta(minutes=1), commit=_noop) == (1, 0)
    assert db.session.scalar(select(Message.body)) == "Conseguiu resolver?"


def test_bad_schedules_are_refused_with_clear_errors(db):
    agent = factories.agent()
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=20))
    template = _template()
    cases = [
        ({"send_at": utcnow() - timedelta(minutes=1), "body": "Oi"}, "in the future"),
        ({"send_at": utcnow() + timedelta(hours=5), "body": "Oi"}, "window will be closed"),
        ({"send_at": utcnow() + timedelta(hours=1), "body": "  "}, "Write a message"),
        ({"send_at": utcnow() + timedelta(hours=1), "template": template, "params": []}, "filled-in parameters"),
        ({"send_at": utcnow() + timedelta(days=400), "template": template, "params": ["x"]}, "within a year"),
    ]
    for kwargs, expected in cases:
        try:
            scheduled_messages.schedule(conversation, by=agent, **kwargs)
        except ScheduleError as error:
            assert expected in str(error)
        else:
            raise AssertionError(f"accepted {kwargs}")
    assert db.session.query(ScheduledMessage).count() == 0


def test_agents_list_schedule_and_cancel_from_the_conversation(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(days=2))
    template = _template()
    db.session.commit()
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    response = client.post(
        f"/conversations/{conversation.id}/scheduled",
        data={"template_id": template.id, "params": ["Ana"], "send_at": f"{day}T09:30"},
    )
    assert response.status_code == 302
    row = db.session.scalar(select(ScheduledMessage))
    # 09:30 in São Paulo (the default installation time zone) is 12:30 UTC.
    assert row.send_at.isoformat() == f"{day}T12:30:00"
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert f'id="scheduled-{row.id}"' in page and "sua consulta" in page
    client.post(f"/conversations/{conversation.id}/scheduled/{row.id}/cancel")
    db.session.expire_all()
    assert row.status == ScheduledMessageStatus.cancelled
    assert scheduled_messages.send_due(now=row.send_at, commit=_noop) == (0, 0)
    response = client.post(
        f"/conversations/{conversation.id}/scheduled", data={"body": "Oi", "send_at": "2001-01-01T10:00"},
        follow_redirects=True,
    )
    assert "Choose a time in the future." in response.get_data(as_text=True)


def test_an_agent_cannot_schedule_in_a_conversation_outside_their_inboxes(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(inbox=factories.inbox())
    db.session.commit()
    response = client.post(f"/conversations/{conversation.id}/scheduled", data={"body": "x", "send_at": "2099-01-01T10:00"})
    assert response.status_code == 404


def test_the_worker_runs_the_due_messages_every_few_seconds():
    [entry] = [s for s in SCHEDULE if s.func == "portal.jobs.scheduled_messages.send_due_messages"]
    assert entry.every_seconds <= 5
