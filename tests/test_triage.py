"""The triage menu (issue 19, part e): a new WhatsApp conversation is asked to choose a team with
reply buttons or a list, sent through the real outbound job to the simulator; the answer (a
tapped button or row, a keyword in free text) sets the team and auto-assignment follows; answers
that choose nothing and the timeout send it to the default team. Inbound messages take the real
webhook path (signed POST, webhooks worker), with the clock held where time matters."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from portal.channels import Menu, MenuOption
from portal.channels.base import numbered_choice
from portal.channels.email.adapter import EmailChannel
from portal.channels.whatsapp import webhook
from portal.jobs.triage import expire_menus
from portal.models import (
    AssignMode,
    AuditLog,
    AutoRule,
    AutoRuleFiring,
    Conversation,
    Message,
    Role,
    Team,
)
from portal.services import assignment, triage
from tests import factories

_wamids = itertools.count(1)


def _team(db, name: str, **fields) -> Team:
    team = Team(name=name, **fields)
    db.session.add(team)
    db.session.flush()
    return team


@pytest.fixture
def sectors(db):
    """Vendas, Suporte (the default) and Financeiro (keywords boleto, pagamento) in the default
    inbox's menu, with a one-member Financeiro that assigns round-robin."""
    inbox = factories.default_inbox()
    rita = factories.agent(name="Rita Financeiro")
    teams = {
        "Vendas": _team(db, "Vendas"),
        "Suporte": _team(db, "Suporte"),
        "Financeiro": _team(
            db,
            "Financeiro",
            keywords=["boleto", "pagamento"],
            auto_assign=AssignMode.round_robin,
            members=[rita],
        ),
    }
    supervisor = factories.agent(role=Role.supervisor)
    triage.save_config(
        inbox,
        triage.TriageConfig(tuple(t.id for t in teams.values()), teams["Suporte"].id, timeout_minutes=15),
        by=supervisor,
    )
    db.session.commit()
    teams["rita"] = rita
    return teams


def _stamp(payload: dict, now: float | None = None) -> dict:
    """The payload as if sent now (the 24-hour window is open) with a message id of its own."""
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int(now or time.time()))
    message["id"] = f"wamid.triage{next(_wamids)}"
    return payload


def _text(whatsapp_payload, body: str) -> dict:
    payload = whatsapp_payload("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"] = {"body": body}
    return _stamp(payload)


def _reply(whatsapp_payload, kind: str, reply_id: str, title: str) -> dict:
    payload = whatsapp_payload(f"interactive_{kind}")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"][kind] = {
        "id": reply_id,
        "title": title,
    }
    return _stamp(payload)


def _conversation(db) -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation))


def _menus(db) -> list[Message]:
    return list(
        db.session.scalars(select(Message).where(Message.message_type == "menu").order_by(Message.id))
    )


def test_a_new_conversation_gets_reply_buttons_and_a_tapped_button_sets_the_team_and_assigns(
    db, sectors, deliver, whatsapp_payload, run_jobs, graph_simulator
):
    assignment.note_online([sectors["rita"].id])
    deliver(_text(whatsapp_payload, "Oi, bom dia"))
    conversation = _conversation(db)
    assert conversation.team_id is None and conversation.triage_asked_at is not None

    run_jobs("outbound")
    [send] = graph_simulator.sends()
    assert send["type"] == "interactive"
    interactive = send["interactive"]
    assert interactive["type"] == "button"
    assert [b["reply"]["title"] for b in interactive["action"]["buttons"]] == [
        "Vendas",
        "Suporte",
        "Financeiro",
    ]
    [menu] = _menus(db)
    assert (
        menu.is_automatic and menu.sender_agent_id is None and menu.external_id
    )  # accepted by the simulator
    assert menu.body.splitlines()[-3:] == ["1. Vendas", "2. Suporte", "3. Financeiro"]

    chosen = interactive["action"]["buttons"][2]["reply"]
    deliver(_reply(whatsapp_payload, "button_reply", chosen["id"], chosen["title"]))
    conversation = _conversation(db)
    assert conversation.team_id == sectors["Financeiro"].id
    assert conversation.triage_asked_at is None
    assert conversation.assigned_to == sectors["rita"].id  # the team's round-robin ran
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "conversation.triaged"))
    assert entry.details == {"team": sectors["Financeiro"].id, "how": "choice"}
    assert len(_menus(db)) == 1


def test_more_than_three_teams_go_out_as_a_list_and_a_list_reply_chooses(
    db, sectors, deliver, whatsapp_payload, run_jobs, graph_simulator
):
    inbox = factories.default_inbox()
    extra = [_team(db, name) for name in ("Ouvidoria", "Pós-venda e garantias estendidas")]
    config = triage.config_for(inbox)
    triage.save_config(
        inbox,
        triage.TriageConfig((*config.team_ids, *(t.id for t in extra)), config.default_team_id),
        by=factories.agent(role=Role.admin),
    )
    db.session.commit()
    deliver(_text(whatsapp_payload, "Olá"))
    run_jobs("outbound")
    [send] = graph_simulator.sends()
    assert send["interactive"]["type"] == "list"
    rows = send["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 5
    assert rows[4]["title"] == "Pós-venda e garantias e…"  # cut to WhatsApp's 24 characters
    assert send["interactive"]["action"]["button"] == "Choose a department"
    assert _menus(db)[0].external_id  # the simulator accepted it

    deliver(_reply(whatsapp_payload, "list_reply", rows[3]["id"], rows[3]["title"]))
    assert _conversation(db).team_id == extra[0].id


def test_a_keyword_in_free_text_chooses_the_team(db, sectors, deliver, whatsapp_payload):
    deliver(_text(whatsapp_payload, "Oi"))
    deliver(_text(whatsapp_payload, "Preciso da segunda via do BOLETO, por favor"))
    conversation = _conversation(db)
    assert conversation.team_id == sectors["Financeiro"].id
    assert conversation.triage_asked_at is None
    assert len(_menus(db)) == 1


def test_the_number_of_a_numbered_menu_chooses_too(db, sectors, deliver, whatsapp_payload):
    deliver(_text(whatsapp_payload, "Oi"))
    deliver(_text(whatsapp_payload, "1"))
    assert _conversation(db).team_id == sectors["Vendas"].id


def test_two_answers_that_choose_nothing_repeat_the_menu_once_then_go_to_the_default_team(
    db, sectors, deliver, whatsapp_payload
):
    deliver(_text(whatsapp_payload, "Oi"))
    deliver(_text(whatsapp_payload, "não sei"))
    conversation = _conversation(db)
    assert conversation.team_id is None and conversation.triage_retries == 1
    assert len(_menus(db)) == 2  # asked again

    # Naming two teams chooses none either.
    deliver(_text(whatsapp_payload, "vendas ou suporte?"))
    conversation = _conversation(db)
    assert conversation.team_id == sectors["Suporte"].id
    assert conversation.triage_asked_at is None
    assert len(_menus(db)) == 2  # not asked a third time
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "conversation.triaged"))
    assert entry.details["how"] == "invalid_answers"

    # Later messages are ordinary messages: no menu, no change.
    deliver(_text(whatsapp_payload, "vendas"))
    assert _conversation(db).team_id == sectors["Suporte"].id
    assert len(_menus(db)) == 2


def test_no_answer_goes_to_the_default_team_when_the_timeout_job_runs_past_the_timeout(
    db, sectors, deliver, whatsapp_payload
):
    deliver(_text(whatsapp_payload, "Oi"))
    asked_at = _conversation(db).triage_asked_at
    assert asked_at is not None

    assert expire_menus(now=asked_at + timedelta(minutes=14, seconds=59)) == 0
    assert _conversation(db).team_id is None
    assert expire_menus(now=asked_at + timedelta(minutes=15)) == 1
    conversation = _conversation(db)
    assert conversation.team_id == sectors["Suporte"].id and conversation.triage_asked_at is None
    # The answer that comes late is an ordinary message.
    deliver(_text(whatsapp_payload, "boleto"))
    assert _conversation(db).team_id == sectors["Suporte"].id
    assert expire_menus(now=asked_at + timedelta(hours=1)) == 0


def test_a_conversation_routed_by_an_agent_meanwhile_stops_waiting(db, sectors, deliver, whatsapp_payload):
    from portal.services import teams

    deliver(_text(whatsapp_payload, "Oi"))
    conversation = _conversation(db)
    teams.set_team(conversation, sectors["Vendas"], by=sectors["rita"])
    db.session.commit()
    deliver(_text(whatsapp_payload, "boleto"))
    conversation = _conversation(db)
    assert conversation.team_id == sectors["Vendas"].id and conversation.triage_asked_at is None


def test_menu_messages_are_automatic_and_trigger_no_rule(
    db, sectors, deliver, whatsapp_payload, run_jobs, graph_simulator
):
    """A rule on a failed message to the customer does not fire for a menu, and the menu is no
    first response."""
    db.session.add(AutoRule(trigger_key="message.failed", actions={"tag": "falhou"}))
    db.session.commit()
    graph_simulator.fail(131026)  # undeliverable: fails at once
    deliver(_text(whatsapp_payload, "Oi"))
    run_jobs("outbound")
    [menu] = _menus(db)
    assert menu.status == "failed"
    assert db.session.scalar(select(func.count()).select_from(AutoRuleFiring)) == 0
    assert _conversation(db).sla.first_response_at is None


def test_an_inbox_without_a_menu_and_a_conversation_a_rule_routed_get_no_menu(
    db, sectors, deliver, whatsapp_payload
):
    db.session.add(AutoRule(trigger_key="conversation.opened", actions={"team_id": sectors["Vendas"].id}))
    db.session.commit()
    deliver(_text(whatsapp_payload, "Oi"))
    assert _conversation(db).team_id == sectors["Vendas"].id
    assert _menus(db) == []


def test_the_simulator_refuses_interactive_sends_the_cloud_api_refuses(graph_simulator, app):
    url = f"{graph_simulator.url}/v21.0/{app.config['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    headers = {"Authorization": f"Bearer {app.config['WHATSAPP_ACCESS_TOKEN']}"}

    def send(interactive):
        body = {
            "messaging_product": "whatsapp",
            "to": "5511999990000",
            "type": "interactive",
            "interactive": interactive,
        }
        return requests.post(url, json=body, headers=headers, timeout=5)

    def buttons(*titles):
        return {
            "type": "button",
            "body": {"text": "Escolha o setor"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{n}", "title": t}} for n, t in enumerate(titles)
                ]
            },
        }

    def rows(*titles):
        return {
            "type": "list",
            "body": {"text": "Escolha o setor"},
            "action": {
                "button": "Escolha o setor",
                "sections": [
                    {"title": "Setores", "rows": [{"id": f"r{n}", "title": t} for n, t in enumerate(titles)]}
                ],
            },
        }

    assert send(buttons("Vendas", "Suporte", "Financeiro")).status_code == 200
    assert send(buttons("A" * 20)).status_code == 200
    assert send(rows(*(f"Setor {n}" for n in range(10)))).status_code == 200
    assert send(rows("B" * 24)).status_code == 200
    for refused in (
        buttons("A", "B", "C", "D"),
        buttons("A" * 21),
        buttons(),
        rows(*(f"Setor {n}" for n in range(11))),
        rows("B" * 25),
        {**buttons("A"), "body": {}},
    ):
        answer = send(refused)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 100, refused


def test_the_webhook_parser_reads_button_and_list_replies(whatsapp_payload):
    for name, expected in (
        ("interactive_button_reply", ("confirm_visit", "Confirmar visita")),
        ("interactive_list_reply", ("plan_pro", "Plano Pro")),
    ):
        [change] = webhook.parse(whatsapp_payload(name))
        [message] = change.messages
        assert webhook.interactive_reply(message.type, message.content) == expected
        assert message.body == expected[1]
    assert webhook.interactive_reply("text", {"body": "1"}) is None
    assert webhook.interactive_reply("interactive", {"type": "button_reply", "button_reply": {}}) is None


def test_e_mail_sends_the_numbered_text_and_reads_the_number_above_the_quoted_menu(db):
    menu = Menu(
        "Escolha o setor:",
        "Escolha o setor",
        (MenuOption("team:1", "Vendas"), MenuOption("team:2", "Suporte")),
    )
    assert menu.numbered_text() == "Escolha o setor:\n\n1. Vendas\n2. Suporte"
    conversation = factories.conversation(inbox=factories.inbox(channel="email", phone_number_id=None))
    reply = factories.message(conversation, body="2\n\nEm qua., Atende escreveu:\n> 1. Vendas\n> 2. Suporte")
    assert EmailChannel().menu_choice(reply, menu) == "team:2"
    assert numbered_choice("> 1. Vendas\n2)", menu) == "team:2"
    for body in ("3", "0", "quero o 2", ""):
        assert numbered_choice(body, menu) is None, body


def test_supervisors_configure_the_menu_on_the_teams_page(db, client, login_as):
    supervisor = login_as(Role.supervisor)
    inbox = factories.default_inbox()
    vendas, suporte = _team(db, "Vendas"), _team(db, "Suporte")
    db.session.commit()
    page = client.get(f"/teams/triage/{inbox.id}")
    assert page.status_code == 200
    answer = client.post(
        f"/teams/triage/{inbox.id}",
        data={"enabled": "y", "team_ids": [vendas.id], "default_team_id": 0, "timeout_minutes": "10"},
    )
    assert answer.status_code == 200  # no default team: the form again
    assert triage.config_for(inbox) is None
    answer = client.post(
        f"/teams/triage/{inbox.id}",
        data={
            "enabled": "y",
            "team_ids": [suporte.id, vendas.id],
            "default_team_id": suporte.id,
            "timeout_minutes": "10",
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    # In the Teams page's order (by name), whatever order the form sent.
    assert triage.config_for(factories.default_inbox()) == triage.TriageConfig(
        (suporte.id, vendas.id), suporte.id, 10, ""
    )
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "inbox.triage_changed"))
    assert entry.actor_id == supervisor.id
    assert "Suporte, Vendas" in client.get("/teams").get_data(as_text=True)
    assert client.post(f"/teams/triage/{inbox.id}", data={}).status_code == 302
    db.session.expire_all()
    assert triage.config_for(factories.default_inbox()) is None
