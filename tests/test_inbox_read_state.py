"""Read state per agent: reading is a POST from a visible page, counts are each agent's own, the
customer's read receipt comes only from the agent answering, and no GET writes anything."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import ConversationRead, Direction, Role
from portal.queue import OUTBOUND
from tests import factories
from tests.conftest import TEST_PASSWORD


def _signed_in(app, agent):
    client = app.test_client()
    assert client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD}).status_code == 302
    return client


def _unread_badge(client) -> str | None:
    found = re.search(r"(\d+) unread", client.get("/inbox").get_data(as_text=True))
    return found.group(1) if found else None


def test_reading_is_per_agent(app, db):
    first = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    second = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    conversation = factories.conversation()
    message = factories.message(conversation)
    db.session.commit()
    first_client, second_client = _signed_in(app, first), _signed_in(app, second)

    first_client.post(f"/conversations/{conversation.id}/read", data={"up_to": message.id})

    assert _unread_badge(first_client) is None
    assert _unread_badge(second_client) is None  # unassigned: the first agent's reading answered it
    factories.message(conversation, body="mais uma")
    db.session.commit()
    assert _unread_badge(first_client) == "1" and _unread_badge(second_client) == "1"


def test_supervisor_peeking_at_a_colleagues_conversation_sends_and_changes_nothing_for_others(
    app, db, run_jobs, graph_simulator
):
    assignee = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    supervisor = factories.agent(role=Role.supervisor, password=TEST_PASSWORD)
    conversation = factories.conversation(assigned_to=assignee.id)
    message = factories.message(conversation, external_id="wamid.peek")
    db.session.commit()
    assignee_client, supervisor_client = _signed_in(app, assignee), _signed_in(app, supervisor)

    supervisor_client.post(f"/conversations/{conversation.id}/read", data={"up_to": message.id})
    run_jobs(OUTBOUND)

    assert graph_simulator.read_receipts() == []
    db.session.expire_all()
    assert message.read_at is None
    assert _unread_badge(supervisor_client) is None
    assert _unread_badge(assignee_client) == "1"

    assignee_client.post(f"/conversations/{conversation.id}/read", data={"up_to": message.id})
    run_jobs(OUTBOUND)
    assert graph_simulator.read_receipts() == ["wamid.peek"]


def test_another_agent_cannot_mark_an_assigned_conversation_read(app, db, run_jobs, graph_simulator):
    assignee = factories.agent(role=Role.agent)
    other = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    conversation = factories.conversation(assigned_to=assignee.id)
    message = factories.message(conversation, external_id="wamid.not-yours")
    db.session.commit()

    response = _signed_in(app, other).post(f"/conversations/{conversation.id}/read", data={"up_to": message.id})

    assert response.status_code == 403
    run_jobs(OUTBOUND)
    assert graph_simulator.read_receipts() == []


def test_read_mark_stops_at_the_conversations_own_messages(app, db, client, login_as):
    me = login_as(Role.agent)
    conversation = factories.conversation()
    first = factories.message(conversation)
    elsewhere = factories.message(factories.conversation(), body="outra conversa")
    db.session.commit()

    client.post(f"/conversations/{conversation.id}/read", data={"up_to": elsewhere.id})

    row = db.session.get(ConversationRead, (me.id, conversation.id))
    assert row.last_read_message_id == first.id


def test_mark_as_unread_brings_back_the_customers_newest_message_for_that_agent_only(app, db, run_jobs, graph_simulator):
    me = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    colleague = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    conversation = factories.conversation()
    factories.message(conversation, body="primeira")
    newest = factories.message(conversation, body="segunda", external_id="wamid.newest")
    db.session.commit()
    mine, theirs = _signed_in(app, me), _signed_in(app, colleague)
    mine.post(f"/conversations/{conversation.id}/read", data={"up_to": newest.id})
    theirs.post(f"/conversations/{conversation.id}/read", data={"up_to": newest.id})
    run_jobs(OUTBOUND)

    assert mine.post(f"/conversations/{conversation.id}/unread", headers={"HX-Request": "true"}).status_code == 204

    assert _unread_badge(mine) == "1"
    assert _unread_badge(theirs) is None
    assert graph_simulator.read_receipts() == ["wamid.newest"]


def test_read_needs_the_message_it_was_shown(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    assert client.post(f"/conversations/{conversation.id}/read").status_code == 400


def _every_row() -> dict[str, list[tuple]]:
    return {
        table.name: sorted(tuple(map(repr, row)) for row in _db.session.execute(select(table)))
        for table in _db.metadata.sorted_tables
    }


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor, Role.admin])
def test_a_get_of_every_page_changes_no_row(app, db, client, login_as, role):
    me = login_as(role)
    conversation = factories.conversation(assigned_to=me.id)
    factories.message(conversation, body="olá", external_id="wamid.get")
    factories.message(conversation, Direction.outbound, sender_agent_id=me.id)
    factories.message(factories.conversation(), body="sem dono")
    db.session.commit()
    before = _every_row()
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/webhooks"):
            continue
        if rule.rule.endswith(".csv"):
            continue  # a download, not a page: exporting contacts is audited on purpose
        if rule.arguments - {"conversation_id"}:
            continue
        pages.append(rule.build({"conversation_id": conversation.id}, append_unknown=False)[1])
    assert f"/conversations/{conversation.id}" in pages

    for url in pages:
        client.get(url)
        client.get(url, headers={"HX-Request": "true"})
        _db.session.expire_all()
        after = _every_row()
        assert (url, {name: rows for name, rows in after.items() if rows != before[name]}) == (url, {})
