"""/api/v1/conversations and messages: the inbox's scopes and state changes, as JSON."""

from datetime import timedelta

import pytest
from rq import Queue

from portal.models import (
    AuditLog,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    Priority,
    Role,
    utcnow,
)
from portal.queue import OUTBOUND, redis_connection
from portal.services import conversations, snooze
from tests import factories
from tests.api_support import api_as


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["data"]]


def test_agent_sees_own_and_unassigned_conversations_only(client, db):
    agent, api = api_as(client, Role.agent)
    other = factories.agent()
    mine = factories.conversation(assigned_to=agent.id)
    unassigned = factories.conversation()
    theirs = factories.conversation(assigned_to=other.id)
    assert _ids(api.get("/api/v1/conversations")) == [mine.id, unassigned.id]
    assert api.get(f"/api/v1/conversations/{mine.id}").status_code == 200
    for url in (f"/api/v1/conversations/{theirs.id}", f"/api/v1/conversations/{theirs.id}/messages"):
        response = api.get(url)
        assert response.status_code == 403, url
        assert response.get_json()["error"]["code"] == "forbidden"
    assert api.patch(f"/api/v1/conversations/{theirs.id}", json={"status": "closed"}).status_code == 403
    assert api.post(f"/api/v1/conversations/{theirs.id}/messages", json={"body": "hi"}).status_code == 403


def test_supervisor_sees_every_conversation(client, db):
    conversations = [factories.conversation(assigned_to=factories.agent().id).id for _ in range(2)]
    _supervisor, api = api_as(client, Role.supervisor)
    assert _ids(api.get("/api/v1/conversations")) == conversations


def test_list_filters_by_status_priority_tag_assignee_and_contact(client, db):
    agent, api = api_as(client, Role.supervisor)
    urgent = factories.conversation(priority=Priority.urgent, status=ConversationStatus.active, assigned_to=agent.id)
    tagged = factories.conversation()
    api.patch(f"/api/v1/conversations/{tagged.id}", json={"tags": ["VIP"]})
    other_agent = factories.agent()
    assigned_elsewhere = factories.conversation(assigned_to=other_agent.id)

    def ids(**params):
        return _ids(api.get("/api/v1/conversations", query_string=params))

    assert ids(status="active") == [urgent.id]
    assert ids(priority="urgent") == [urgent.id]
    assert ids(tag="vip") == [tagged.id]
    assert ids(assignee="me") == [urgent.id]
    assert ids(assignee="unassigned") == [tagged.id]
    assert ids(assignee=str(other_agent.id)) == [assigned_elsewhere.id]
    assert ids(contact_id=str(tagged.contact_id)) == [tagged.id]
    response = api.get("/api/v1/conversations", query_string={"status": "bogus", "assignee": "them"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"status", "assignee"}


def test_patch_changes_status_priority_and_tags_through_the_audited_services(client, db):
    agent, api = api_as(client, Role.agent)
    conversation = factories.conversation(assigned_to=agent.id)
    response = api.patch(
        f"/api/v1/conversations/{conversation.id}",
        json={"status": "active", "priority": "high", "tags": ["Pago", "vip"]},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["priority"], body["tags"]) == ("active", "high", ["pago", "vip"])
    actions = {row.action for row in db.session.query(AuditLog).filter_by(actor_id=agent.id)}
    assert {"conversation.status_changed", "conversation.priority_changed", "conversation.tags_changed"} <= actions


def test_bad_values_are_422_and_change_nothing(client, db):
    agent, api = api_as(client, Role.agent)
    conversation = factories.conversation(assigned_to=agent.id)
    response = api.patch(
        f"/api/v1/conversations/{conversation.id}",
        json={"status": "done", "priority": 3, "tags": "vip", "assigned_to": "me"},
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"status", "priority", "tags", "assigned_to"}
    response = api.patch(f"/api/v1/conversations/{conversation.id}", json={"assigned_to": 99999})
    assert response.status_code == 422
    assert conversation.status == ConversationStatus.new


def test_agent_may_take_a_conversation_and_hand_it_to_a_colleague(client, db):
    agent, api = api_as(client, Role.agent)
    colleague = factories.agent()
    conversation = factories.conversation()
    response = api.patch(f"/api/v1/conversations/{conversation.id}", json={"assigned_to": agent.id})
    assert response.status_code == 200
    assert response.get_json()["assigned_to"] == agent.id
    response = api.patch(f"/api/v1/conversations/{conversation.id}", json={"assigned_to": colleague.id})
    assert response.status_code == 200
    assert conversation.assigned_to == colleague.id


def test_agent_may_not_move_a_colleagues_conversation(db):
    agent, colleague = factories.agent(), factories.agent()
    conversation = factories.conversation(assigned_to=colleague.id)
    with pytest.raises(conversations.NotYoursToMove):
        conversations.assign(conversation, agent, by=agent)
    assert conversation.assigned_to == colleague.id


def test_a_refused_change_undoes_the_rest_of_the_patch(client, db):
    _agent, api = api_as(client, Role.agent)
    colleague = factories.agent(active=False)
    conversation = factories.conversation()
    response = api.patch(
        f"/api/v1/conversations/{conversation.id}", json={"assigned_to": colleague.id, "priority": "urgent"}
    )
    assert response.status_code == 422
    assert conversation.priority == Priority.normal


def test_reopening_when_the_contact_has_another_open_conversation_is_a_409(client, db):
    _supervisor, api = api_as(client, Role.supervisor)
    contact = factories.contact()
    closed = factories.conversation(contact, status=ConversationStatus.closed)
    factories.conversation(contact)
    response = api.patch(f"/api/v1/conversations/{closed.id}", json={"status": "active"})
    assert response.status_code == 409
    assert closed.status == ConversationStatus.closed


def test_messages_list_oldest_first_in_pages(client, db):
    agent, api = api_as(client)
    conversation = factories.conversation(assigned_to=agent.id)
    start = utcnow() - timedelta(hours=1)
    ids = [factories.message(conversation, sent_at=start + timedelta(minutes=m)).id for m in (3, 1, 2)]
    expected = [ids[1], ids[2], ids[0]]
    first = api.get(f"/api/v1/conversations/{conversation.id}/messages", query_string={"limit": 2}).get_json()
    second = api.get(
        f"/api/v1/conversations/{conversation.id}/messages",
        query_string={"limit": 2, "cursor": first["next_cursor"]},
    ).get_json()
    assert [m["id"] for m in first["data"] + second["data"]] == expected
    assert second["next_cursor"] is None
    assert first["data"][0]["direction"] == "inbound"


def test_sending_queues_an_outbound_message_and_a_job(client, db):
    agent, api = api_as(client)
    conversation = factories.conversation(assigned_to=agent.id, last_inbound_at=utcnow() - timedelta(hours=1))
    response = api.post(f"/api/v1/conversations/{conversation.id}/messages", json={"body": "Olá! Como posso ajudar?"})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["status"], body["direction"], body["sender_agent_id"]) == ("queued", "outbound", agent.id)
    message = db.session.get(Message, body["id"])
    assert message.direction == Direction.outbound and message.status == MessageStatus.queued
    jobs = Queue(OUTBOUND, connection=redis_connection()).jobs
    assert [(job.func_name, job.args) for job in jobs] == [("portal.jobs.outbound.send_message", (message.id,))]


def test_sending_outside_the_24_hour_window_is_a_422_with_the_reason(client, db):
    agent, api = api_as(client)
    conversation = factories.conversation(assigned_to=agent.id, last_inbound_at=utcnow() - timedelta(hours=25))
    response = api.post(f"/api/v1/conversations/{conversation.id}/messages", json={"body": "Oi"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "cannot_send" and "24" in error["message"]
    assert db.session.query(Message).count() == 0
    assert Queue(OUTBOUND, connection=redis_connection()).count == 0
    response = api.post(f"/api/v1/conversations/{conversation.id}/messages", json={"text": "Oi"})
    assert response.status_code == 422 and "body" in response.get_json()["error"]["fields"]


def test_tags_are_listed_and_created_once(client, db):
    _agent, api = api_as(client)
    response = api.post("/api/v1/tags", json={"name": "  Cliente   VIP "})
    assert response.status_code == 201
    assert response.get_json()["name"] == "cliente vip"
    assert api.post("/api/v1/tags", json={"name": "cliente vip"}).status_code == 409
    assert api.post("/api/v1/tags", json={"name": "   "}).status_code == 422
    assert [t["name"] for t in api.get("/api/v1/tags").get_json()["data"]] == ["cliente vip"]


def test_a_conversation_says_whether_and_until_when_it_is_snoozed(client, db):
    agent, api = api_as(client, Role.agent)
    timed = factories.conversation(assigned_to=agent.id)
    open_ended = factories.conversation(assigned_to=agent.id)
    awake = factories.conversation(assigned_to=agent.id)
    now = utcnow().replace(microsecond=0)
    until = now + timedelta(hours=2)
    snooze.snooze(timed, until, by=agent, now=now)
    snooze.snooze(open_ended, None, by=agent, now=now)
    db.session.commit()

    def snoozed(conversation):
        body = api.get(f"/api/v1/conversations/{conversation.id}").get_json()
        return body["snoozed_at"], body["snoozed_until"]

    assert snoozed(timed) == (now.isoformat() + "+00:00", until.isoformat() + "+00:00")
    assert snoozed(open_ended) == (now.isoformat() + "+00:00", None)
    assert snoozed(awake) == (None, None)
