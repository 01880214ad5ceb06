"""Internal notes, mentions and transfers (portal/services/notes.py), on SQLite and PostgreSQL:
a note is never queued or sent, never a first response, never the list's preview; mentions name
only agents who may see the conversation; the API lists and writes notes; a transfer hands the
conversation over with its note in the thread."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditLog, Direction, Mention, Message, Role, utcnow
from portal.queue import redis_connection
from portal.services import inbox_queries, notes, sla, snooze, thread_lines
from portal.services.inbox_queries import InboxFilter
from portal.services.live import EVENTS_KEY, MENTION, LiveEvent, audience
from tests import factories
from tests.api_support import api_as


def _live_records(app) -> list[dict]:
    return [json.loads(fields[b"data"]) for _id, fields in redis_connection(app).xrange(EVENTS_KEY)]


def test_a_note_is_stored_internal_never_queued_never_a_first_response(app, db, run_jobs, graph_simulator):
    agent = factories.agent(name="Ana Souza")
    conversation = factories.conversation()
    factories.message(conversation, body="Cadê meu pedido?")
    db.session.commit()

    note = notes.add_note(conversation, "Cliente VIP, cuidado", by=agent)
    db.session.commit()
    run_jobs()

    assert note.direction == Direction.internal and note.is_note
    assert graph_simulator.sends() == []
    assert sla.metric_for(conversation).first_response_at is None
    assert conversation.id in inbox_queries.waiting_since([conversation])
    row = inbox_queries.list_page(agent, InboxFilter()).rows[0]
    assert row.last_message.body == "Cadê meu pedido?"
    assert [r["type"] for r in _live_records(app)] == ["note.created"]


def test_mentions_name_agents_by_full_name_the_longer_name_first(db):
    ana = factories.agent(name="Ana")
    ana_maria = factories.agent(name="Ana Maria")
    bruno = factories.agent(name="Bruno Lima")
    found = notes.mentioned_agents("@ana maria e @Bruno Lima, vejam; email@Bruno Lima não", [ana, ana_maria, bruno])
    assert found == [ana_maria, bruno]


def test_a_mention_is_recorded_and_announced_only_to_the_one_named(app, db):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima")
    conversation = factories.conversation()
    db.session.commit()

    note = notes.add_note(conversation, "@Bruno Lima pode ver?", by=ana)
    db.session.commit()

    assert [(m.agent_id, m.message_id) for m in db.session.scalars(select(Mention))] == [(bruno.id, note.id)]
    mention = [r for r in _live_records(app) if r["type"] == "mention.created"]
    assert mention == [{"type": "mention.created", "conversation": conversation.id, "actor": ana.id,
                        "message": note.id, "direction": "internal", "mentioned": [bruno.id]}]
    assert notes.unseen_count(bruno) == 1
    assert [m.message_id for m in notes.mentions_of(bruno)] == [note.id]
    notes.mark_seen(bruno)
    assert notes.unseen_count(bruno) == 0


def test_mentioning_someone_who_cannot_see_the_conversation_is_refused_with_nothing_saved(db):
    ana = factories.agent(name="Ana Souza")
    other_inbox = factories.inbox()
    factories.agent(name="Carla Dias", inboxes=[other_inbox])
    conversation = factories.conversation()
    db.session.commit()

    with pytest.raises(notes.NoteError, match="Carla Dias cannot see this conversation"):
        notes.add_note(conversation, "@Carla Dias olha isso", by=ana)
    db.session.rollback()
    assert db.session.scalar(select(Message).where(Message.direction == Direction.internal)) is None


def test_the_note_route_keeps_a_refused_note_in_the_box(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    page = client.post(f"/conversations/{conversation.id}/notes", data={"note": "   "},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Write a note before saving it." in page
    assert '<div id="note-composer" class="composer card note-composer" role="tabpanel" aria-labelledby="composer-tab-note">' in page


def test_the_api_lists_notes_as_internal_and_writes_them(client, db):
    _agent, api = api_as(client, name="Ana Souza")
    conversation = factories.conversation()
    factories.message(conversation, body="Oi")

    created = api.post(f"/api/v1/conversations/{conversation.id}/notes", json={"body": "Ligar amanhã"})
    assert created.status_code == 201
    assert created.json["direction"] == "internal" and created.json["message_type"] == "note"
    listed = api.get(f"/api/v1/conversations/{conversation.id}/messages").json
    assert [(m["direction"], m["body"]) for m in listed["data"]] == [("inbound", "Oi"), ("internal", "Ligar amanhã")]
    refused = api.post(f"/api/v1/conversations/{conversation.id}/notes", json={"body": " "})
    assert refused.status_code == 422


def test_a_transfer_assigns_the_colleague_and_writes_its_note(app, db):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima")
    conversation = factories.conversation(assigned_to=ana.id)
    db.session.commit()

    line = notes.transfer(conversation, bruno, "Ele fala de boletos", by=ana)
    db.session.commit()

    assert conversation.assigned_to == bruno.id
    assert line.body == "Ele fala de boletos" and thread_lines.transfer_of(line) == {"from": ana.id, "to": bruno.id}
    assert [r["type"] for r in _live_records(app)] == ["conversation.assigned", "note.created"]
    rows = inbox_queries.list_page(bruno, InboxFilter(assignee=inbox_queries.MINE)).rows
    assert [r.conversation.id for r in rows] == [conversation.id]


def test_an_agent_cannot_transfer_a_colleagues_conversation(db):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima")
    carla = factories.agent(name="Carla Dias")
    conversation = factories.conversation(assigned_to=bruno.id)
    db.session.commit()
    with pytest.raises(notes.conversations.NotYoursToMove):
        notes.transfer(conversation, carla, "", by=ana)


def test_only_the_named_agent_hears_a_mention_and_only_if_they_may_see_it(db):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima")
    carla = factories.agent(name="Carla Dias")
    conversation = factories.conversation(assigned_to=carla.id)
    db.session.commit()
    mention = LiveEvent("1-0", EVENTS_KEY, {"type": MENTION, "conversation": conversation.id, "mentioned": [bruno.id, carla.id]})
    # Bruno, an agent, may not see Carla's conversation: only Carla hears it.
    assert audience(mention, [ana, bruno, carla], conversation) == ({carla.id}, set())


def test_the_transcript_export_holds_notes_and_lines_said_for_what_they_are(client, db, login_as):
    agent = login_as(Role.agent, name="Ana Souza")
    conversation = factories.conversation(factories.contact(name="Rita Alves"), assigned_to=agent.id)
    factories.message(conversation, body="=1+1 oi", sent_at=utcnow() - timedelta(minutes=2))
    notes.add_note(conversation, "Cliente VIP", by=agent)
    snooze.snooze(conversation, None, by=agent)
    db.session.commit()

    response = client.get(f"/conversations/{conversation.id}/transcript.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Sent at (UTC)", "Kind", "Author", "Text"]
    assert [row[1:] for row in rows[1:]] == [
        ["Customer", "Rita Alves", "'=1+1 oi"],
        ["Note (not sent)", "Ana Souza", "Note by Ana Souza: Cliente VIP"],
        ["Activity", "Ana Souza", "Ana Souza snoozed the conversation until the customer writes"],
    ]
    assert db.session.query(AuditLog).filter_by(action="conversation.exported").count() == 1
