"""The live-update stream (GET /events on the stream server): who may open it, what each agent
hears, and catching up with Last-Event-ID."""

from __future__ import annotations

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from portal.models import ConversationStatus, Role
from portal.services import agent_admin, conversations
from tests import factories
from tests.live_support import EventReader, StreamServer


@pytest.fixture
def stream(app, db):
    server = StreamServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def open_stream(stream, client):
    """open_stream(last_event_id=None): the signed-in test client's stream, read up to `ready`."""
    readers = []

    def _open(last_event_id: str | None = None) -> tuple[EventReader, list]:
        reader = EventReader(stream.url, session_cookie=client.get_cookie("session").value,
                             last_event_id=last_event_id)
        readers.append(reader)
        return reader, reader.until("ready")

    yield _open
    for reader in readers:
        reader.close()


def _change_status(conversation, status, by):
    conversations.change_status(conversation, status, by=by)
    factories.db.session.commit()


def test_signed_out_stream_is_refused(stream):
    response = requests.get(stream.url, timeout=10)
    assert response.status_code == 401


def test_stream_from_another_site_gets_no_cors_grant(stream, login_as, client):
    login_as(Role.agent)
    response = requests.get(stream.url, cookies={"session": client.get_cookie("session").value},
                            headers={"Origin": "https://evil.example"}, stream=True, timeout=10)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    response.close()


def test_agent_hears_changes_only_in_conversations_they_may_see(db, login_as, open_stream):
    me = login_as(Role.agent)
    other = factories.agent(role=Role.agent)
    unassigned = factories.conversation()
    theirs = factories.conversation(assigned_to=other.id)
    db.session.commit()
    reader, _ = open_stream()

    _change_status(theirs, ConversationStatus.triage, other)
    _change_status(unassigned, ConversationStatus.triage, other)

    heard = reader.until("change")
    assert [(e.data["conversation"], e.data["type"]) for e in heard] == [(unassigned.id, "conversation.status_changed")]
    assert heard[0].data["title"] == unassigned.contact.name
    assert heard[0].data["actor"] == other.id != me.id


def test_reconnecting_with_last_event_id_catches_up(db, login_as, open_stream):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    reader, opened = open_stream()
    last_id = opened[-1].id
    reader.close()

    _change_status(conversation, ConversationStatus.triage, None)
    _change_status(conversation, ConversationStatus.proposal, None)

    _, caught_up = open_stream(last_event_id=last_id)
    changes = [e for e in caught_up if e.name == "change"]
    assert [e.data["type"] for e in changes] == ["conversation.status_changed"] * 2
    assert changes[-1].id == caught_up[-1].id  # `ready` marks where the live part starts


@pytest.mark.parametrize("forged", ["0-0", "1-0", "0", "9999999999999-0", "../../etc", "-1-1"])
def test_forged_last_event_id_replays_nothing_outside_scope(db, login_as, open_stream, forged):
    login_as(Role.agent)
    other = factories.agent(role=Role.agent)
    theirs = factories.conversation(assigned_to=other.id)
    db.session.commit()
    for status in (ConversationStatus.triage, ConversationStatus.proposal, ConversationStatus.waiting):
        _change_status(theirs, status, other)

    _, replayed = open_stream(last_event_id=forged)

    assert [e.name for e in replayed if e.name == "change"] == []


def test_supervisor_replay_includes_everything(db, login_as, open_stream):
    login_as(Role.supervisor)
    other = factories.agent(role=Role.agent)
    theirs = factories.conversation(assigned_to=other.id)
    db.session.commit()
    _change_status(theirs, ConversationStatus.triage, other)

    _, replayed = open_stream(last_event_id="0-0")

    assert [e.data["conversation"] for e in replayed if e.name == "change"] == [theirs.id]


def test_deactivated_agent_stream_closes_and_cannot_reopen(db, login_as, open_stream, stream, client):
    me = login_as(Role.agent)
    admin = factories.agent(role=Role.admin)
    db.session.commit()
    cookie = client.get_cookie("session").value
    reader, _ = open_stream()

    agent_admin.deactivate(me, by=admin)
    db.session.commit()

    assert reader.next() is None  # the server ended the stream (the reader gives up after 10 s)
    assert requests.get(stream.url, cookies={"session": cookie}, timeout=10).status_code == 401


def test_presence_beat_reaches_others_who_may_see_the_thread(db, app, login_as, open_stream):
    me = login_as(Role.agent)
    colleague = factories.agent(role=Role.agent, password="correct-horse-battery")
    conversation = factories.conversation()
    db.session.commit()
    reader, _ = open_stream()

    with app.test_client() as theirs:
        theirs.post("/login", data={"email": colleague.email, "password": "correct-horse-battery"})
        assert theirs.post(f"/conversations/{conversation.id}/presence", data={"state": "typing"}).status_code == 204

    heard = reader.until("presence")[-1]
    assert heard.data == {"conversation": conversation.id, "agent": colleague.id, "name": colleague.name,
                          "state": "typing"}
    assert heard.id is None and me.id != colleague.id


def test_presence_for_a_conversation_out_of_scope_is_refused(db, login_as, client):
    login_as(Role.agent)
    theirs = factories.conversation(assigned_to=factories.agent().id)
    db.session.commit()
    assert client.post(f"/conversations/{theirs.id}/presence", data={"state": "viewing"}).status_code == 403


def test_unread_count_counts_visible_conversations_with_unread_messages(db, login_as, client):
    login_as(Role.agent)
    factories.message(factories.conversation())
    factories.message(factories.conversation(assigned_to=factories.agent().id))
    db.session.commit()
    assert client.get("/inbox/title-count").get_json() == {"conversations": 1}


def _open_streams_metric(client) -> float:
    scrape = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    [value] = [sample.value for family in text_string_to_metric_families(scrape) for sample in family.samples
               if sample.name == "atende_open_event_streams"]
    return value


def _until(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_open_streams_show_in_the_metrics_scrape(db, login_as, open_stream, client):
    login_as(Role.agent)
    assert _open_streams_metric(client) == 0
    first, _ = open_stream()
    open_stream()

    assert _until(lambda: _open_streams_metric(client) == 2), _open_streams_metric(client)
    first.close()
    assert _until(lambda: _open_streams_metric(client) == 1), _open_streams_metric(client)
