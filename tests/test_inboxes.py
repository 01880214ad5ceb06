"""Inboxes: each connected WhatsApp number is an inbox. Webhooks are routed by the number they
name, replies leave from the conversation's inbox with its own token, agents see only the
conversations of their inboxes, and a disabled inbox refuses sends."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import (
    Conversation,
    Direction,
    Message,
    MessageStatus,
    Role,
    WebhookEvent,
    WebhookStatus,
    utcnow,
)
from portal.queue import OUTBOUND
from portal.services import inboxes, outbound
from tests import factories

NUMBER_B, TOKEN_B = "209876543210987", "token-of-number-b"


@pytest.fixture
def inbox_b(db, graph_simulator):
    inbox = inboxes.create_whatsapp_inbox(
        name="Vendas", phone_number_id=NUMBER_B, access_token=TOKEN_B, waba_id="555000", by=None
    )
    db.session.commit()
    graph_simulator.add_number(NUMBER_B, TOKEN_B)
    return inbox


def _to_number(payload, phone_number_id):
    """The payload sent to our number `phone_number_id`, now (so the 24-hour window is open)."""
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["messages"][0]["timestamp"] = str(int(time.time()))
    return payload


def test_a_message_to_number_b_opens_a_conversation_in_inbox_b_and_the_reply_leaves_from_b(
    db, client, login_as, inbox_b, graph_simulator, post_whatsapp, whatsapp_payload, run_jobs
):
    assert post_whatsapp(_to_number(whatsapp_payload("text"), NUMBER_B)).status_code == 200
    run_jobs("webhooks")
    conversation = db.session.scalar(select(Conversation))
    assert conversation.inbox_id == inbox_b.id

    agent = login_as(Role.agent, inboxes=[inbox_b])
    response = client.post(f"/conversations/{conversation.id}/reply", data={"body": "Olá!"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    run_jobs(OUTBOUND)

    [send] = [r for r in graph_simulator.requests if r["endpoint"] == "messages" and "status" not in r["json"]]
    assert send["phone_number_id"] == NUMBER_B
    assert send["token"] == TOKEN_B
    db.session.expire_all()
    reply = db.session.scalar(select(Message).where(Message.direction == Direction.outbound))
    assert reply.status == MessageStatus.sent and reply.sender_agent_id == agent.id


def test_media_downloads_and_read_receipts_of_inbox_b_use_bs_token(
    db, client, login_as, inbox_b, graph_simulator, post_whatsapp, whatsapp_payload, run_jobs
):
    import hashlib

    data = b"\xff\xd8\xff\xe0 jpeg of inbox b"
    payload = _to_number(whatsapp_payload("image"), NUMBER_B)
    image = payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    image["sha256"] = hashlib.sha256(data).hexdigest()
    graph_simulator.add_media(data, "image/jpeg", media_id=image["id"])
    post_whatsapp(payload)
    run_jobs("webhooks", OUTBOUND)
    conversation = db.session.scalar(select(Conversation))
    login_as(Role.agent, inboxes=[inbox_b])
    newest = db.session.scalar(select(Message).where(Message.conversation_id == conversation.id))
    client.post(f"/conversations/{conversation.id}/read", data={"up_to": newest.id}, headers={"HX-Request": "true"})
    run_jobs(OUTBOUND)

    calls = {r["endpoint"]: r for r in graph_simulator.requests}
    assert calls["media_info"]["token"] == calls["media_bytes"]["token"] == TOKEN_B
    assert (calls["messages"]["json"]["status"], calls["messages"]["phone_number_id"], calls["messages"]["token"]) == (
        "read", NUMBER_B, TOKEN_B
    )


def test_the_same_customer_writing_to_two_numbers_has_one_open_conversation_in_each(
    db, inbox_b, post_whatsapp, whatsapp_payload, run_jobs
):
    first = whatsapp_payload("text")
    second = _to_number(whatsapp_payload("text"), NUMBER_B)
    second["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.to-number-b"
    post_whatsapp(first)
    post_whatsapp(second)
    run_jobs("webhooks")
    rows = db.session.scalars(select(Conversation).order_by(Conversation.id)).all()
    assert [c.inbox_id for c in rows] == [factories.default_inbox().id, inbox_b.id]
    assert rows[0].contact_id == rows[1].contact_id


def test_a_notification_for_an_unknown_number_is_stored_flagged_and_shown_in_no_inbox(
    db, client, login_as, post_whatsapp, whatsapp_payload, run_jobs
):
    assert post_whatsapp(_to_number(whatsapp_payload("text"), "999999999999999")).status_code == 200
    run_jobs("webhooks")
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == WebhookStatus.failed
    assert "999999999999999" in event.error
    assert db.session.scalar(select(Conversation)) is None
    assert db.session.scalar(select(Message)) is None

    login_as(Role.admin, locale="pt_BR")
    page = client.get(f"/admin/webhook-events/{event.id}").get_data(as_text=True)
    # The number is masked on the page like any phone-like digits (the payload shows it to admins).
    assert "Nenhuma caixa de entrada tem o ID de número do WhatsApp" in page
    assert "Olá" not in client.get("/inbox").get_data(as_text=True)


def test_the_event_of_an_unknown_number_is_processed_once_its_inbox_exists(
    db, post_whatsapp, whatsapp_payload, run_jobs
):
    from portal.services import webhook_events

    post_whatsapp(_to_number(whatsapp_payload("text"), NUMBER_B))
    run_jobs("webhooks")
    inbox = inboxes.create_whatsapp_inbox(name="Vendas", phone_number_id=NUMBER_B, access_token="t", by=None)
    event = db.session.scalar(select(WebhookEvent))
    webhook_events.replay(event, by=None)
    db.session.commit()
    run_jobs("webhooks")
    db.session.expire_all()
    assert event.status == WebhookStatus.processed
    assert db.session.scalar(select(Conversation)).inbox_id == inbox.id


@pytest.fixture
def b_conversation(db, inbox_b, graph_simulator):
    """A conversation of inbox B with an image, and an agent outside inbox B signed in."""
    # The customer wrote two days ago: only templates may go out.
    conversation = factories.conversation(inbox=inbox_b, last_inbound_at=utcnow() - timedelta(days=2))
    factories.message(conversation, body="segredo do cliente B", media_id="m1", media_url="x/1.jpg", media_mime_type="image/jpeg")
    db.session.commit()
    return conversation


def test_an_agent_outside_inbox_b_gets_404_on_its_conversations_everywhere(client, login_as, b_conversation):
    login_as(Role.agent)  # a member of the default inbox only
    cid = b_conversation.id
    message = b_conversation.messages.first()
    assert client.get(f"/conversations/{cid}").status_code == 404
    assert client.get(f"/conversations/{cid}/composer", headers={"HX-Request": "true"}).status_code == 404
    assert client.post(f"/conversations/{cid}/reply", data={"body": "x"}, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(f"/media/{message.id}").status_code == 404
    assert client.post(f"/conversations/{cid}/read", data={"up_to": message.id}).status_code == 404
    listing = client.get("/inbox?q=segredo&status=all").get_data(as_text=True)
    assert f"/conversations/{cid}" not in listing and b_conversation.contact.name not in listing
    contact_page = client.get(f"/contacts/{b_conversation.contact_id}").get_data(as_text=True)
    assert f'id="conversation-{cid}"' not in contact_page


def test_every_route_of_a_conversation_or_message_answers_404_outside_its_inbox(app, client, db, login_as, b_conversation):
    """Pages, HTMX fragments, media and the API: every rule of the URL map that names a
    conversation or a message and that an agent may use, walked, so a route added later is covered
    too. (Routes for supervisors and up refuse agents by role; supervisors see every inbox.)"""
    from portal.access import minimum_role
    from portal.services import api_tokens

    agent = login_as(Role.agent)  # a member of the default inbox only
    _, token = api_tokens.create(agent, "script")
    db.session.commit()
    api_client = app.test_client()  # the API takes only the token, never the session cookie
    message = b_conversation.messages.first()
    values = {"conversation_id": b_conversation.id, "message_id": message.id}
    walked = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments & values.keys() or minimum_role(app, rule.endpoint) != Role.agent:
            continue
        url = rule.rule
        for name in rule.arguments:  # any other row a route names (a scheduled message...): one that is not there
            url = url.replace(f"<int:{name}>", str(values.get(name, 999_999)))
        caller, headers = client, {"HX-Request": "true"}
        if rule.rule.startswith("/api/"):
            caller, headers = api_client, {"Authorization": f"Bearer {token}"}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"body": "x", "up_to": message.id, "state": "viewing"}
            response = caller.open(url, method=method, data=data, headers=headers)
            walked.append((method, rule.rule, response.status_code))
    assert walked and all(status == 404 for _, _, status in walked), "\n".join(map(str, (w for w in walked if w[2] != 404)))
    assert len(walked) >= 20


def test_the_api_answers_404_for_conversations_outside_the_agents_inboxes(client, db, b_conversation):
    from portal.services import api_tokens

    agent = factories.agent()
    _, token = api_tokens.create(agent, "script")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/conversations/{b_conversation.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/conversations/{b_conversation.id}/messages", headers=headers).status_code == 404
    listed = client.get("/api/v1/conversations", headers=headers).get_json()
    assert b_conversation.id not in [c["id"] for c in listed["data"]]


def test_a_member_of_inbox_b_and_a_supervisor_see_its_conversations(client, login_as, b_conversation, inbox_b):
    login_as(Role.agent, inboxes=[inbox_b])
    page = client.get(f"/conversations/{b_conversation.id}")
    assert page.status_code == 200 and "<dd>Vendas</dd>" in page.get_data(as_text=True)
    login_as(Role.supervisor, inboxes=[])
    assert client.get(f"/conversations/{b_conversation.id}").status_code == 200


def test_a_disabled_inbox_refuses_sends_with_a_readable_reason(client, db, login_as, inbox_b, b_conversation):
    agent = login_as(Role.agent, inboxes=[inbox_b])
    inboxes.set_enabled(inbox_b, False, by=agent)
    db.session.commit()
    response = client.post(
        f"/conversations/{b_conversation.id}/reply", data={"body": "Olá"}, headers={"HX-Request": "true"}
    )
    assert "The inbox Vendas is disabled" in response.get_data(as_text=True)
    assert db.session.scalar(select(Message).where(Message.direction == Direction.outbound)) is None
    with pytest.raises(outbound.OutboundError, match="disabled"):
        outbound.queue_reply(b_conversation, "Olá", by=agent)


def test_a_reply_queued_before_the_inbox_was_disabled_fails_with_the_reason_unsent(
    db, inbox_b, graph_simulator, run_jobs
):
    agent = factories.agent(inboxes=[inbox_b])
    message = outbound.queue_reply(factories.conversation(inbox=inbox_b), "Olá", by=agent)
    db.session.commit()
    inboxes.set_enabled(inbox_b, False, by=agent)
    db.session.commit()
    run_jobs(OUTBOUND)
    db.session.expire_all()
    assert message.status == MessageStatus.failed
    assert "disabled" in outbound.failure(message).reason
    assert graph_simulator.sends() == []


def test_a_conversation_offers_only_the_templates_of_its_inboxs_business_account(
    client, db, login_as, inbox_b, b_conversation
):
    from portal.models import MessageTemplate

    db.session.add_all(
        [
            MessageTemplate(template_key="vendas_oferta", body="Oferta {{1}}", language="pt_BR", waba_id="555000"),
            MessageTemplate(template_key="suporte_retorno", body="Retorno", language="pt_BR", waba_id=None),
        ]
    )
    db.session.commit()
    agent = login_as(Role.agent, inboxes=[inbox_b])
    page = client.get(f"/conversations/{b_conversation.id}").get_data(as_text=True)
    assert "vendas_oferta" in page and "suporte_retorno" not in page
    other = db.session.scalar(select(MessageTemplate).where(MessageTemplate.template_key == "suporte_retorno"))
    with pytest.raises(outbound.OutboundError, match="another WhatsApp business account"):
        outbound.queue_template(b_conversation, other, [], by=agent)


def test_the_access_token_is_stored_encrypted(db, inbox_b):
    assert TOKEN_B not in inbox_b.access_token_encrypted
    assert inboxes.access_token(inbox_b) == TOKEN_B


def test_init_makes_the_first_inbox_from_the_environment_and_create_inbox_adds_more(app, runner, db):
    from portal.models import Inbox

    db.session.delete(factories.default_inbox())
    db.session.commit()
    assert "Created the inbox WhatsApp" in runner.invoke(args=["init"]).output
    first = db.session.scalar(select(Inbox))
    assert first.phone_number_id == app.config["WHATSAPP_PHONE_NUMBER_ID"]
    assert inboxes.access_token(first) == app.config["WHATSAPP_ACCESS_TOKEN"]
    assert [a.email for a in first.agents] == ["admin@atende.example"]

    args = ["create-inbox", "--name", "Vendas", "--phone-number-id", NUMBER_B, "--access-token", TOKEN_B]
    assert runner.invoke(args=args).exit_code == 0
    assert "already has this number" in runner.invoke(args=args).output
    assert [i.name for i in inboxes.all_inboxes()] == ["Vendas", "WhatsApp"]


def test_an_admin_adds_an_inbox_whose_token_is_write_only(client, db, login_as):
    from portal.models import Inbox

    agent = factories.agent(name="Bia")
    login_as(Role.admin)
    response = client.post(
        "/admin/inboxes/new",
        data={"name": "Vendas", "phone_number_id": NUMBER_B, "access_token": TOKEN_B, "waba_id": "555000",
              "members": [str(agent.id)]},
    )
    assert response.status_code == 302
    inbox = db.session.scalar(select(Inbox).where(Inbox.name == "Vendas"))
    assert inboxes.access_token(inbox) == TOKEN_B and TOKEN_B not in inbox.access_token_encrypted
    assert [a.name for a in inbox.agents] == ["Bia"]
    page = client.get(f"/admin/inboxes/{inbox.id}").get_data(as_text=True)
    assert TOKEN_B not in page and inbox.access_token_encrypted not in page

    client.post(f"/admin/inboxes/{inbox.id}", data={"name": "Vendas SP", "phone_number_id": NUMBER_B, "access_token": ""})
    db.session.expire_all()
    assert inbox.name == "Vendas SP" and inboxes.access_token(inbox) == TOKEN_B and inbox.agents == []


def test_an_admin_sees_why_an_inbox_cannot_be_saved(client, db, login_as):
    login_as(Role.admin)
    number = factories.default_inbox().phone_number_id
    page = client.post(
        "/admin/inboxes/new", data={"name": "Outra", "phone_number_id": number, "access_token": "t"}
    ).get_data(as_text=True)
    assert "The inbox WhatsApp already uses this phone number ID." in page


def test_disabling_an_inbox_asks_for_confirmation_first(client, db, login_as, inbox_b):
    login_as(Role.admin)
    client.post(f"/admin/inboxes/{inbox_b.id}/enabled", data={})
    db.session.expire_all()
    assert inbox_b.enabled
    client.post(f"/admin/inboxes/{inbox_b.id}/enabled", data={"confirm": "y"})
    db.session.expire_all()
    assert not inbox_b.enabled
    client.post(f"/admin/inboxes/{inbox_b.id}/enabled", data={})
    db.session.expire_all()
    assert inbox_b.enabled


def test_the_inbox_list_the_board_and_reports_filter_by_inbox(client, db, login_as, inbox_b):
    ours = factories.conversation(contact_row=factories.contact(name="Cliente Suporte"))
    theirs = factories.conversation(inbox=inbox_b, contact_row=factories.contact(name="Cliente Vendas"))
    db.session.commit()
    login_as(Role.supervisor)
    listing = client.get(f"/inbox?inbox={inbox_b.id}").get_data(as_text=True)
    assert "Cliente Vendas" in listing and "Cliente Suporte" not in listing
    board = client.get(f"/board?inbox={inbox_b.id}").get_data(as_text=True)
    assert "Cliente Vendas" in board and "Cliente Suporte" not in board
    from portal.services import reports

    start, end = ours.started_at.date() - timedelta(days=1), ours.started_at.date() + timedelta(days=1)
    assert reports.build(reports.ReportFilter(start, end, inbox_id=inbox_b.id)).total.opened == 1
    assert reports.build(reports.ReportFilter(start, end)).total.opened == 2
    assert client.get(f"/reports?start={start}&end={end}&inbox_id={inbox_b.id}").status_code == 200
    assert theirs.inbox_id == inbox_b.id


def test_an_admin_picks_an_agents_inboxes_on_the_agent_page(client, db, login_as, inbox_b):
    agent = factories.agent(name="Bia")
    db.session.commit()
    login_as(Role.admin)
    page = client.get(f"/admin/agents/{agent.id}").get_data(as_text=True)
    assert "Vendas" in page
    response = client.post(
        f"/admin/agents/{agent.id}",
        data={"name": "Bia", "email": agent.email, "role": "agent", "inboxes": [str(inbox_b.id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [i.name for i in agent.inboxes] == ["Vendas"]


def test_list_rows_and_the_thread_name_the_inbox_when_the_agent_sees_several(client, db, login_as, inbox_b):
    theirs = factories.conversation(inbox=inbox_b, contact_row=factories.contact(name="Cliente Vendas"))
    factories.conversation(contact_row=factories.contact(name="Cliente Suporte"))
    db.session.commit()
    badge = '<span class="badge inbox-name" title="{}">{}</span>'

    login_as(Role.agent, inboxes=[inbox_b])  # one inbox: its name would only repeat itself
    assert "inbox-name" not in client.get("/inbox").get_data(as_text=True)
    assert "badge inbox-name" not in client.get(f"/conversations/{theirs.id}").get_data(as_text=True)

    client.post("/logout")
    login_as(Role.agent, inboxes=[inbox_b, factories.default_inbox()], locale="pt_BR")
    listing = client.get("/inbox").get_data(as_text=True)
    assert badge.format("Caixa de entrada", "Vendas") in listing
    assert badge.format("Caixa de entrada", factories.default_inbox().name) in listing
    thread = client.get(f"/conversations/{theirs.id}").get_data(as_text=True)
    head = thread[thread.index('class="thread-head"'):thread.index("</header>", thread.index('class="thread-head"'))]
    assert badge.format("Caixa de entrada", "Vendas") in head

    client.post("/logout")
    login_as(Role.supervisor)
    assert badge.format("Inbox", "Vendas") in client.get("/inbox").get_data(as_text=True)
