"""The conversation thread at /conversations/<id>: scope, bubbles and ticks, the 24-hour window
in the composer, inline controls (each a small HTMX post, audited, re-rendered), and the poll."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from portal.models import (
    AuditLog,
    ConversationStatus,
    Direction,
    MessageStatus,
    MessageTemplate,
    Priority,
    Role,
    Tag,
    utcnow,
)
from tests import factories

HTMX = {"HX-Request": "true"}


def test_agent_gets_403_on_a_conversation_assigned_to_someone_else(client, db, login_as):
    login_as(Role.agent)
    theirs = factories.conversation(assigned_to=factories.agent().id)
    db.session.commit()

    assert client.get(f"/conversations/{theirs.id}").status_code == 403
    assert client.get(f"/conversations/{theirs.id}/changes").status_code == 403
    for action, data in [
        ("reply", {"body": "oi"}),
        ("status", {"status": "closed"}),
        ("priority", {"priority": "urgent"}),
        ("tags", {"tags": "x"}),
        ("assignee", {"assignee": "me"}),
    ]:
        assert client.post(f"/conversations/{theirs.id}/{action}", data=data).status_code == 403, action
    db.session.expire_all()
    assert theirs.status == ConversationStatus.new and theirs.messages.count() == 0


def test_supervisor_opens_any_conversation(client, db, login_as):
    login_as(Role.supervisor)
    theirs = factories.conversation(assigned_to=factories.agent().id)
    db.session.commit()
    assert client.get(f"/conversations/{theirs.id}").status_code == 200


def test_missing_conversation_is_404(client, db, login_as):
    login_as(Role.agent)
    assert client.get("/conversations/999").status_code == 404


def test_thread_shows_bubbles_reply_context_media_and_ticks(app, client, db, login_as):
    me = login_as(Role.agent, name="Carla")
    contact = factories.contact(name="Ana Souza", email="ana@example.com", city="Campinas")
    conversation = factories.conversation(contact)
    question = factories.message(conversation, body="Meu pedido não chegou", external_id="wamid.q")
    factories.message(
        conversation,
        Direction.outbound,
        body="Vou verificar",
        sender_agent_id=me.id,
        status=MessageStatus.delivered,
        reply_to_external_id="wamid.q",
    )
    image = factories.message(
        conversation,
        body="",
        message_type="image",
        media_id="m1",
        media_url="thread-test/m1.jpg",
        media_mime_type="image/jpeg",
    )
    stored = Path(app.config["MEDIA_ROOT"]) / "thread-test" / "m1.jpg"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"\xff\xd8 not really a jpeg")
    factories.message(conversation, body="", message_type="document", media_id="m2", media_mime_type="application/pdf")
    factories.message(
        conversation,
        Direction.outbound,
        body="Falhou",
        sender_agent_id=me.id,
        status=MessageStatus.failed,
        external_id=None,
        error_code=131026,
        error_title="Message undeliverable",
    )
    db.session.commit()

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "msg-inbound" in page and "msg-outbound" in page
    assert f'href="#message-{question.id}"' in page  # reply context links to the quoted message
    assert 'data-status="delivered"' in page and "Delivered" in page
    assert 'data-status="failed"' in page and "Undeliverable" in page
    assert "Send again" in page
    assert f'<img src="/media/{image.id}"' in page
    assert "Attachment not downloaded yet" in page
    assert "ana@example.com" in page and "Campinas" in page
    assert "Carla" in page


def test_viewing_marks_inbound_messages_read_through_a_post_not_the_page_itself(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    message = factories.message(conversation)
    db.session.commit()
    assert "1 unread" in client.get("/inbox").get_data(as_text=True)

    client.get(f"/conversations/{conversation.id}")
    assert "1 unread" in client.get("/inbox").get_data(as_text=True)
    assert client.post(f"/conversations/{conversation.id}/read", data={"up_to": message.id}).status_code == 204
    assert "unread" not in client.get("/inbox").get_data(as_text=True)


def test_within_the_window_the_reply_box_submits_on_ctrl_enter(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=23))
    db.session.commit()
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert re.search(r"<textarea[^>]*data-submit-on-ctrl-enter", page)
    assert "Free text is allowed until" in page


def test_outside_the_window_the_reply_box_is_disabled_and_a_template_picker_takes_its_place(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=25))
    template = MessageTemplate(template_key="retomar", language="pt_BR", body="Olá {{1}}, tudo bem? {{2}}")
    db.session.add(template)
    db.session.commit()

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert re.search(r"<textarea[^>]*disabled", page)
    assert "data-reply-form" not in page  # the free-text reply form is gone
    assert "More than 24 hours" in page
    assert f'<option value="{template.id}"' in page

    picked = client.get(f"/conversations/{conversation.id}/composer?template_id={template.id}", headers=HTMX)
    fragment = picked.get_data(as_text=True)
    assert "<html" not in fragment
    assert 'name="params-0"' in fragment and 'name="params-1"' in fragment
    assert "Value for {{2}}" in fragment


@pytest.mark.parametrize(
    ("action", "data", "check"),
    [
        ("status", {"status": "closed"}, lambda c: c.status == ConversationStatus.closed and c.closed_at),
        ("priority", {"priority": "urgent"}, lambda c: c.priority == Priority.urgent),
        ("tags", {"tags": "Boleto, vip , "}, lambda c: [t.name for t in c.tags] == ["boleto", "vip"]),
        ("assignee", {"assignee": "me"}, lambda c: c.assignee is not None),
    ],
)
def test_each_inline_change_is_saved_audited_and_re_rendered(client, db, login_as, action, data, check):
    me = login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()

    response = client.post(f"/conversations/{conversation.id}/{action}", data=data, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="conversation-details"' in body
    db.session.expire_all()
    assert check(conversation)
    assert db.session.query(AuditLog).filter_by(actor_id=me.id, target_type="conversations", target_id=str(conversation.id)).count() == 1


def test_new_tags_are_created_on_the_fly_and_shown(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    body = client.post(f"/conversations/{conversation.id}/tags", data={"tags": "troca"}, headers=HTMX).get_data(
        as_text=True
    )
    assert "#troca" in body
    assert db.session.query(Tag).filter_by(name="troca").count() == 1


def test_inline_change_without_htmx_redirects_back_to_the_thread(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    response = client.post(f"/conversations/{conversation.id}/priority", data={"priority": "high"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/conversations/{conversation.id}")


def test_invalid_status_is_a_400(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    assert client.post(f"/conversations/{conversation.id}/status", data={"status": "bogus"}).status_code == 400


def test_agent_takes_releases_and_hands_a_conversation_to_a_colleague(client, db, login_as):
    me = login_as(Role.agent)
    colleague = factories.agent(name="Colega Ativa")
    factories.agent(name="Colega Inativa", active=False)
    conversation = factories.conversation()
    db.session.commit()
    url = f"/conversations/{conversation.id}/assignee"
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Colega Ativa" in page and "Colega Inativa" not in page

    client.post(url, data={"assignee": "me"}, headers=HTMX)
    db.session.expire_all()
    assert conversation.assigned_to == me.id

    client.post(url, data={"assignee": ""}, headers=HTMX)
    db.session.expire_all()
    assert conversation.assigned_to is None

    client.post(url, data={"assignee": str(colleague.id)}, headers=HTMX)
    db.session.expire_all()
    assert conversation.assigned_to == colleague.id
    assert client.post(url, data={"assignee": "me"}, headers=HTMX).status_code == 403


def test_a_refused_assignment_shows_the_reason_inline_and_keeps_the_saved_assignee(client, db, login_as):
    login_as(Role.supervisor)
    gone = factories.agent(name="Saiu", active=False)
    keeper = factories.agent(name="Fica")
    conversation = factories.conversation(assigned_to=keeper.id)
    db.session.commit()

    body = client.post(
        f"/conversations/{conversation.id}/assignee", data={"assignee": str(gone.id)}, headers=HTMX
    ).get_data(as_text=True)

    assert "An inactive agent cannot receive conversations." in body
    assert f'<option selected value="{keeper.id}">Fica' in body
    db.session.expire_all()
    assert conversation.assigned_to == keeper.id


def test_supervisor_assigns_anyone_from_a_list_of_active_agents(client, db, login_as):
    login_as(Role.supervisor)
    colleague = factories.agent(name="Diego")
    factories.agent(name="Inativo", active=False)
    conversation = factories.conversation()
    db.session.commit()

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Diego" in page and "Inativo" not in page
    client.post(f"/conversations/{conversation.id}/assignee", data={"assignee": str(colleague.id)}, headers=HTMX)
    db.session.expire_all()
    assert conversation.assigned_to == colleague.id


def test_reopening_when_the_contact_has_another_open_conversation_shows_the_reason(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact()
    closed = factories.conversation(contact, status=ConversationStatus.closed)
    factories.conversation(contact)
    db.session.commit()
    body = client.post(f"/conversations/{closed.id}/status", data={"status": "active"}, headers=HTMX).get_data(
        as_text=True
    )
    assert "already has an open conversation" in body


def _poll_url(page: str) -> str:
    return re.search(r'hx-get="(/conversations/\d+/changes\?[^"]+)"', page).group(1).replace("&amp;", "&")


def test_thread_poll_answers_204_until_a_message_or_status_changes(client, db, login_as):
    me = login_as(Role.agent)
    conversation = factories.conversation()
    reply = factories.message(conversation, Direction.outbound, sender_agent_id=me.id, status=MessageStatus.sent)
    db.session.commit()
    poll = _poll_url(client.get(f"/conversations/{conversation.id}").get_data(as_text=True))
    assert client.get(poll, headers=HTMX).status_code == 204

    # The status alone changes: WhatsApp's timestamp need not be newer than any we hold.
    reply.status = MessageStatus.read
    db.session.commit()
    changed = client.get(poll, headers=HTMX)
    body = changed.get_data(as_text=True)
    assert changed.status_code == 200 and 'data-status="read"' in body
    assert 'id="conversation-details"' not in body and 'id="composer"' not in body

    poll = _poll_url(body)
    factories.message(conversation, body="chegou agora")
    db.session.commit()
    body = client.get(poll, headers=HTMX).get_data(as_text=True)
    assert "chegou agora" in body
    db.session.expire_all()
    assert all(m.read_at is None for m in conversation.messages if m.direction == Direction.inbound)


def test_thread_poll_refreshes_details_and_composer_only_when_they_changed(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(days=2))
    db.session.commit()
    poll = _poll_url(client.get(f"/conversations/{conversation.id}").get_data(as_text=True))

    conversation.priority = Priority.urgent
    db.session.commit()
    body = client.get(poll, headers=HTMX).get_data(as_text=True)
    assert 'id="conversation-details" class="details" hx-swap-oob="true"' in body
    assert 'id="composer"' not in body

    poll = _poll_url(body)
    factories.message(conversation, body="voltei")
    conversation.last_inbound_at = utcnow()
    db.session.commit()
    body = client.get(poll, headers=HTMX).get_data(as_text=True)
    assert 'hx-swap-oob="true"' in body and "data-submit-on-ctrl-enter" in body


def _bubbles(page: str) -> list[str]:
    return re.findall(r'<p class="body">([^<]+)</p>', page)


def _earlier_url(page: str) -> str:
    return re.search(r'hx-get="(/conversations/\d+/earlier\?[^"]+)"', page).group(1).replace("&amp;", "&")


def test_long_thread_shows_the_newest_page_and_loads_earlier_messages_by_keyset(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    base = utcnow() - timedelta(hours=2)
    # Pairs share a sent_at, so the keyset has to break ties on the id.
    rows = [factories.message(conversation, body=f"corpo-{i:03d}", sent_at=base + timedelta(minutes=i // 2))
            for i in range(55)]
    factories.message(conversation, body="resposta", sent_at=base + timedelta(hours=1),
                      reply_to_external_id=rows[0].external_id)
    db.session.commit()

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    corpos = [f"corpo-{i:03d}" for i in range(55)]
    assert _bubbles(page) == corpos[6:] + ["resposta"]
    # The quoted message is older than the page and is still quoted.
    assert re.search(r'class="reply-context">\s*<a href="#message-\d+">corpo-000</a>', page)
    assert "Show earlier messages" in page

    earlier = client.get(_earlier_url(page), headers=HTMX).get_data(as_text=True)
    assert _bubbles(earlier) == corpos[:6]
    assert "Show earlier messages" not in earlier
    start = re.search(r'<input type="hidden" id="messages-from" name="from" value="([^"]+)" hx-swap-oob="true">',
                      earlier).group(1)

    # The poll, sent with how far back the reader went, keeps the earlier messages and adds new ones.
    factories.message(conversation, body="chegou agora")
    db.session.commit()
    poll = f"{_poll_url(page)}&{urlencode({'from': start})}"
    refreshed = client.get(poll, headers=HTMX).get_data(as_text=True)
    assert _bubbles(refreshed) == [*corpos, "resposta", "chegou agora"]
    assert "Show earlier messages" not in refreshed

    # Without HTMX the link opens the whole thread from there on.
    opened = client.get(_earlier_url(page))
    assert opened.status_code == 302
    whole = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert _bubbles(whole) == [*corpos, "resposta", "chegou agora"]
    assert "Show earlier messages" not in whole
