"""The workspace's panes as HTML: the conversation pane swapped in alone, tabs, the closed
composer's "reopen and reply", earlier conversations read in place, previews and waiting time."""

from __future__ import annotations

from datetime import timedelta

from portal.models import ConversationStatus, Direction, Role, utcnow
from tests import factories

HTMX = {"HX-Request": "true"}


def test_choosing_a_conversation_answers_only_its_panes(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(factories.contact(name="Rita Lopes"))
    db.session.commit()
    body = client.get(
        f"/conversations/{conversation.id}",
        headers=HTMX | {"HX-Target": "conversation-pane", "HX-Current-URL": "http://x/inbox?q=rita"},
    ).get_data(as_text=True)
    assert "<title>Rita Lopes · Atende</title>" in body
    assert 'id="conversation-details"' in body and 'id="inbox-list"' not in body
    assert 'href="/inbox?q=rita"' in body

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert 'id="inbox-list"' in page and 'id="conversation-details"' in page


def test_tabs_fragment_counts_within_what_the_role_may_see(client, db, login_as):
    me = login_as(Role.agent)
    factories.conversation(assigned_to=me.id)
    factories.conversation()
    factories.conversation(assigned_to=factories.agent().id)
    db.session.commit()
    body = client.get("/inbox/tabs").get_data(as_text=True)
    assert 'data-tab-count="mine">1<' in body
    assert 'data-tab-count="unassigned">1<' in body
    assert 'data-tab-count="all">2<' in body


def test_a_closed_conversation_offers_reopen_and_reply(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(status=ConversationStatus.closed, last_inbound_at=utcnow())
    db.session.commit()
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "This conversation is closed." in page and "Reopen and reply" in page
    assert "data-reply-form" not in page  # the note form stays; the reply form is gone

    body = client.post(f"/conversations/{conversation.id}/reopen", headers=HTMX).get_data(as_text=True)
    assert "data-reply-form" in body and 'hx-swap-oob="true"' in body
    db.session.expire_all()
    assert conversation.status == ConversationStatus.active


def test_earlier_conversations_are_listed_and_read_in_place(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact()
    earlier = factories.conversation(contact, status=ConversationStatus.closed)
    factories.message(earlier, body="Quero trocar o tamanho")
    current = factories.conversation(contact)
    db.session.commit()
    page = client.get(f"/conversations/{current.id}").get_data(as_text=True)
    assert f"/conversations/{earlier.id}/history" in page
    assert f"/contacts/{contact.id}" in page
    history = client.get(f"/conversations/{earlier.id}/history", headers=HTMX).get_data(as_text=True)
    assert "Quero trocar o tamanho" in history and "Reply to this" not in history


def test_preview_labels_an_agents_and_an_automatic_message_and_never_calls_a_bot_you(client, db, login_as):
    me = login_as(Role.agent)
    colleague = factories.agent(name="Paulo")
    mine, theirs, robot = (factories.conversation() for _ in range(3))
    factories.message(mine, Direction.outbound, body="minha", sender_agent_id=me.id)
    factories.message(theirs, Direction.outbound, body="dele", sender_agent_id=colleague.id)
    factories.message(robot, Direction.outbound, body="robô", is_automatic=True)
    db.session.commit()
    page = client.get("/inbox").get_data(as_text=True)
    assert 'You:</span>\n        minha' in page.replace('<span class="author">', "")
    assert "Paulo:</span>" in page
    assert "Automatic:</span>" in page and page.count("You:") == 1


def test_waiting_counts_from_the_customers_oldest_unanswered_message(db):
    from portal.services import inbox_queries

    agent = factories.agent()
    conversation = factories.conversation(started_at=utcnow() - timedelta(hours=5))
    factories.message(conversation, sent_at=utcnow() - timedelta(hours=5))
    factories.message(conversation, Direction.outbound, sender_agent_id=agent.id, sent_at=utcnow() - timedelta(hours=4))
    oldest_unanswered = factories.message(conversation, sent_at=utcnow() - timedelta(hours=2))
    factories.message(conversation, sent_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    assert inbox_queries.waiting_since([conversation]) == {conversation.id: oldest_unanswered.sent_at}


def test_handing_a_conversation_over_sends_the_agent_back_to_their_list(client, db, login_as):
    login_as(Role.agent)
    colleague = factories.agent(name="Bruno Lima")
    conversation = factories.conversation(factories.contact(name="Paula Reis"))
    db.session.commit()
    url = f"/conversations/{conversation.id}"

    handed = client.post(f"{url}/assignee", data={"assignee": str(colleague.id)}, headers=HTMX)
    assert (handed.status_code, handed.headers["HX-Redirect"]) == (204, "/inbox")
    assert "The conversation with Paula Reis is now assigned to Bruno Lima." in client.get("/inbox").get_data(as_text=True)

    # The open thread's next refresh says the same instead of failing; "left" is still told.
    refreshed = client.get(f"{url}/changes", headers=HTMX)
    assert (refreshed.status_code, refreshed.headers["HX-Redirect"]) == (204, "/inbox")
    assert client.get(f"{url}/changes").status_code == 403
    assert client.post(f"{url}/presence", data={"state": "left"}).status_code == 204
    assert client.post(f"{url}/presence", data={"state": "viewing"}).status_code == 403


def test_without_script_a_hand_over_redirects_to_the_list(client, db, login_as):
    login_as(Role.agent)
    colleague = factories.agent()
    conversation = factories.conversation()
    db.session.commit()
    response = client.post(f"/conversations/{conversation.id}/assignee", data={"assignee": str(colleague.id)})
    assert (response.status_code, response.headers["Location"]) == (302, "/inbox")
