"""Satisfaction surveys (issue 21 part 3): closing a conversation sends the inbox's rating
question (WhatsApp reply buttons through the real outbound job to the simulator, a template
outside the window, numbered text by e-mail); the answer comes back through the signed webhook
and the webhooks worker, is stored once per survey without reopening anything, can trigger a
low-score rule, and shows in the report."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.channels.email.adapter import EmailChannel
from portal.models import (
    AutoRule,
    Conversation,
    ConversationStatus,
    CsatResponse,
    Direction,
    Message,
    MessageTemplate,
    Role,
    utcnow,
)
from portal.services import conversations, csat, reports
from tests import factories

_wamids = itertools.count(1)


@pytest.fixture
def surveyed(db):
    """The default inbox asks with three faces; an agent to close conversations."""
    inbox = factories.default_inbox()
    admin = factories.agent(role=Role.admin)
    csat.save_config(inbox, csat.CsatConfig(enabled=True, scale=csat.FACES, expiry_days=7), by=admin)
    db.session.commit()
    return inbox


def _stamp(payload: dict) -> dict:
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int(time.time()))
    message["id"] = f"wamid.csat{next(_wamids)}"
    return payload


def _text(whatsapp_payload, body: str) -> dict:
    payload = whatsapp_payload("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"] = {"body": body}
    return _stamp(payload)


def _tap(whatsapp_payload, reply_id: str, title: str) -> dict:
    payload = whatsapp_payload("interactive_button_reply")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["button_reply"] = {
        "id": reply_id,
        "title": title,
    }
    return _stamp(payload)


def _close(db, agent=None) -> Conversation:
    db.session.expire_all()
    conversation = db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))
    if agent is not None:
        conversation.assigned_to = agent.id
    conversations.change_status(conversation, ConversationStatus.closed, by=None)
    db.session.commit()
    return conversation


def _survey(db) -> CsatResponse:
    db.session.expire_all()
    return db.session.scalar(select(CsatResponse))


def _conversation_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Conversation))


def _opened_and_closed(db, deliver, whatsapp_payload, agent=None) -> Conversation:
    deliver(_text(whatsapp_payload, "Meu pedido não chegou"))
    return _close(db, agent)


def test_closing_sends_three_face_buttons_and_a_tap_is_the_score_shown_in_the_report(
    db, surveyed, deliver, whatsapp_payload, run_jobs, graph_simulator, client, login_as
):
    ana = factories.agent(name="Ana Atende")
    db.session.commit()
    closed = _opened_and_closed(db, deliver, whatsapp_payload, agent=ana)

    run_jobs("outbound")
    [send] = graph_simulator.sends()
    interactive = send["interactive"]
    assert interactive["type"] == "button"
    buttons = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [b["id"] for b in buttons] == ["csat:1", "csat:3", "csat:5"]
    survey = _survey(db)
    question = db.session.get(Message, survey.message_id)
    assert question.is_automatic and question.sender_agent_id is None and question.external_id
    assert (survey.agent_id, survey.inbox_id, survey.scale, survey.score) == (ana.id, surveyed.id, "faces", None)

    deliver(_tap(whatsapp_payload, buttons[2]["id"], buttons[2]["title"]))
    survey = _survey(db)
    assert survey.score == 5 and survey.answered_at is not None
    conversation = db.session.get(Conversation, closed.id)
    assert conversation.status == ConversationStatus.closed  # the answer reopened nothing
    assert _conversation_count(db) == 1
    answer = db.session.scalars(
        select(Message).where(Message.direction == Direction.inbound).order_by(Message.id.desc())
    ).first()
    assert answer.conversation_id == closed.id and answer.is_automatic
    thanks = db.session.scalars(select(Message).where(Message.direction == Direction.outbound).order_by(Message.id.desc())).first()
    assert thanks.is_automatic and "Thank you" in thanks.body

    today = utcnow().date()
    report = reports.build(reports.ReportFilter(today - timedelta(days=1), today + timedelta(days=1)))
    assert (report.csat.total.asked, report.csat.total.answered, report.csat.total.average) == (1, 1, 5)
    [(agent_id, name, figures)] = report.csat.per_agent
    assert (agent_id, name, figures.response_rate) == (ana.id, "Ana Atende", 1.0)
    rows = reports.csv_rows(report)
    assert ["csat", "total", "average", "5.0000"] in rows
    assert ["csat", f"agent Ana Atende (#{ana.id})", "response_rate", "1.0000"] in rows

    login_as(Role.supervisor)
    thread = client.get(f"/conversations/{closed.id}").get_data(as_text=True)
    assert 'data-csat-score="5"' in thread and "😀 Great (5/5)" in thread
    page = client.get("/reports").get_data(as_text=True)
    assert 'data-metric="csat_asked">1<' in page
    assert 'data-metric="csat_average">5<' in page
    assert f'data-csat-agent="{ana.id}"' in page and "Ana Atende" in page


def test_a_rating_after_the_expiry_is_an_ordinary_message_in_a_new_conversation(
    db, surveyed, deliver, whatsapp_payload
):
    closed = _opened_and_closed(db, deliver, whatsapp_payload)
    survey = _survey(db)
    survey.asked_at = utcnow() - timedelta(days=8)
    db.session.commit()

    deliver(_tap(whatsapp_payload, "csat:5", "😀 Great"))
    survey = _survey(db)
    assert survey.score is None
    assert _conversation_count(db) == 2
    newest = db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))
    assert newest.id != closed.id and newest.is_open
    answer = db.session.scalars(select(Message).where(Message.conversation_id == newest.id)).one()
    assert not answer.is_automatic


def test_free_text_before_a_score_is_an_ordinary_message_and_after_one_is_the_comment(
    db, surveyed, deliver, whatsapp_payload
):
    closed = _opened_and_closed(db, deliver, whatsapp_payload)
    deliver(_text(whatsapp_payload, "Ainda preciso de ajuda com outra coisa"))
    assert _survey(db).score is None
    assert _conversation_count(db) == 2  # not a rating: a normal message, a new conversation

    # A second conversation, closed and rated by typing the face's word, then commented.
    second = _close(db)
    assert second.id != closed.id
    second_survey = db.session.scalar(select(CsatResponse).where(CsatResponse.conversation_id == second.id))
    assert second_survey is not None
    deliver(_text(whatsapp_payload, "1"))
    deliver(_text(whatsapp_payload, "Demoraram muito para responder"))
    db.session.expire_all()
    second_survey = db.session.get(CsatResponse, second_survey.id)
    assert (second_survey.score, second_survey.comment) == (1, "Demoraram muito para responder")
    assert _conversation_count(db) == 2
    assert db.session.get(Conversation, second.id).status == ConversationStatus.closed

    # With the comment taken, the next text is a new conversation again.
    deliver(_text(whatsapp_payload, "Outra dúvida"))
    assert _conversation_count(db) == 3


def test_the_same_survey_never_gets_two_scores(db, surveyed, deliver, whatsapp_payload):
    closed = _opened_and_closed(db, deliver, whatsapp_payload)
    deliver(_tap(whatsapp_payload, "csat:1", "😞 Bad"), _tap(whatsapp_payload, "csat:5", "😀 Great"))
    survey = _survey(db)
    assert survey.score == 1
    assert _conversation_count(db) == 1
    taps = db.session.scalars(
        select(Message).where(Message.direction == Direction.inbound, Message.message_type == "interactive")
    ).all()
    assert [m.conversation_id for m in taps] == [closed.id, closed.id]
    assert csat.record_score(survey, 3, utcnow()) is False  # a racing worker's second score
    db.session.rollback()
    assert _survey(db).score == 1


def test_a_low_score_triggers_the_low_csat_rule(db, surveyed, deliver, whatsapp_payload):
    db.session.add(
        AutoRule(trigger_key="csat.low:2", enabled=True, actions={"tag": "insatisfeito"}, conditions={})
    )
    high = AutoRule(trigger_key="csat.low:1", enabled=True, actions={"tag": "nunca"}, conditions={})
    db.session.add(high)
    db.session.commit()
    closed = _opened_and_closed(db, deliver, whatsapp_payload)
    deliver(_tap(whatsapp_payload, "csat:1", "😞 Bad"))
    db.session.expire_all()
    tags = {t.name for t in db.session.get(Conversation, closed.id).tags}
    assert "insatisfeito" in tags and "nunca" in tags  # 1 <= 2 and 1 <= 1


def test_a_rating_above_the_threshold_triggers_nothing(db, surveyed, deliver, whatsapp_payload):
    db.session.add(
        AutoRule(trigger_key="csat.low:2", enabled=True, actions={"tag": "insatisfeito"}, conditions={})
    )
    db.session.commit()
    closed = _opened_and_closed(db, deliver, whatsapp_payload)
    deliver(_tap(whatsapp_payload, "csat:3", "😐 Okay"))
    db.session.expire_all()
    assert _survey(db).score == 3
    assert db.session.get(Conversation, closed.id).tags == []


def test_outside_the_window_the_configured_template_asks_and_without_one_nothing_does(db, surveyed):
    admin = factories.agent(role=Role.admin)
    template = MessageTemplate(template_key="avalie", language="pt_BR", body="Olá {{1}}, avalie nosso atendimento de 1 a 5.")
    db.session.add(template)
    db.session.flush()
    stale = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=30), status=ConversationStatus.active)
    conversations.change_status(stale, ConversationStatus.closed, by=None)
    assert db.session.scalar(select(CsatResponse).where(CsatResponse.conversation_id == stale.id)) is None

    csat.save_config(surveyed, csat.CsatConfig(enabled=True, scale=csat.FIVE, template_id=template.id), by=admin)
    other = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=30), status=ConversationStatus.active)
    conversations.change_status(other, ConversationStatus.closed, by=None)
    survey = db.session.scalar(select(CsatResponse).where(CsatResponse.conversation_id == other.id))
    question = db.session.get(Message, survey.message_id)
    assert question.template_id == template.id and question.is_automatic
    assert survey.scale == "five"


def test_e_mail_asks_with_numbered_lines_and_reads_the_number_above_the_quote(db):
    inbox = factories.inbox(channel="email", phone_number_id=None, name="Suporte e-mail")
    admin = factories.agent(role=Role.admin)
    csat.save_config(inbox, csat.CsatConfig(enabled=True, scale=csat.FIVE), by=admin)
    contact = factories.contact(email="cliente@example.com")
    conversation = factories.conversation(contact, inbox=inbox, channel="email", status=ConversationStatus.active)
    conversations.change_status(conversation, ConversationStatus.closed, by=None)
    survey = db.session.scalar(select(CsatResponse).where(CsatResponse.conversation_id == conversation.id))
    question = db.session.get(Message, survey.message_id)
    assert question.body.splitlines()[-5:] == ["1. Very bad", "2. Bad", "3. Okay", "4. Good", "5. Excellent"]
    assert EmailChannel().sends_templates is False

    reply = Message(direction=Direction.inbound, body="4\n\nEm qua., Atende escreveu:\n> 1. Very bad", message_type="email")
    assert csat.take_answer(reply, contact, inbox, utcnow())
    assert reply.conversation is conversation and reply.is_automatic
    db.session.add(reply)
    db.session.flush()
    from portal.services import events

    events.emit("message.created", message=reply)
    assert survey.score == 4
    assert conversation.status == ConversationStatus.closed


def test_admins_set_the_survey_on_the_inbox_page(db, client, login_as, surveyed):
    login_as(Role.admin)
    page = client.get(f"/admin/inboxes/{surveyed.id}").get_data(as_text=True)
    assert 'id="csat"' in page and "csat-scale" in page
    response = client.post(
        f"/admin/inboxes/{surveyed.id}/csat",
        data={"csat-enabled": "y", "csat-scale": "five", "csat-template_id": "0", "csat-expiry_days": "3"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert csat.config_for(surveyed) == csat.CsatConfig(enabled=True, scale="five", template_id=None, expiry_days=3)
    client.post(
        f"/admin/inboxes/{surveyed.id}/csat",
        data={"csat-scale": "faces", "csat-template_id": "0", "csat-expiry_days": "99"},
    )
    db.session.expire_all()
    assert csat.config_for(surveyed).expiry_days == 3  # refused: from 1 to 30 days


def test_the_rule_form_offers_the_low_score_trigger(db, client, login_as):
    login_as(Role.supervisor)
    page = client.get("/rules/new").get_data(as_text=True)
    assert 'value="csat.low"' in page
    response = client.post("/rules/new", data={"trigger": "csat.low", "score": "2", "template_id": "0", "enabled": "y", "add_tag": "x", "repeat": "once"})
    assert response.status_code in (200, 302)
    assert db.session.scalar(select(AutoRule.trigger_key)) == "csat.low:2"


def test_an_e_mail_answer_to_the_survey_scores_without_reopening_the_thread(
    db, mail_servers, email_inbox, fetch_and_process
):
    from email.message import EmailMessage
    from email.utils import make_msgid

    admin = factories.agent(role=Role.admin)
    csat.save_config(email_inbox, csat.CsatConfig(enabled=True, scale=csat.FIVE), by=admin)
    db.session.commit()

    def mail(body: str, **headers) -> bytes:
        message = EmailMessage()
        message["From"] = "Maria Souza <maria@cliente.test>"
        message["To"] = "support@example.com"
        message["Subject"] = headers.pop("subject", "Pedido 123")
        message["Message-ID"] = make_msgid(domain="cliente.test")
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        message.set_content(body)
        return message

    first = mail("Meu pedido não chegou.")
    mail_servers.append_many("support", [bytes(first)])
    fetch_and_process()
    conversation = db.session.scalar(select(Conversation))
    conversations.change_status(conversation, ConversationStatus.closed, by=None)
    db.session.commit()
    fetch_and_process()  # runs the outbound job: the survey goes out by SMTP
    [sent] = mail_servers.delivered
    assert b"5. Excellent" in sent.data.replace(b"\r\n", b"\n")

    answer = mail("4\n\n> How would you rate the help you received?", subject="Re: Pedido 123",
                  In_Reply_To=first["Message-ID"], References=first["Message-ID"])
    mail_servers.append_many("support", [bytes(answer)])
    fetch_and_process()
    assert _survey(db).score == 4
    assert _conversation_count(db) == 1
    assert db.session.get(Conversation, conversation.id).status == ConversationStatus.closed


def test_erasing_a_contact_clears_its_survey_comment_and_the_export_carries_it(db, surveyed):
    from portal.services import privacy

    admin = factories.agent(role=Role.admin)
    contact = factories.contact(name="Maria Souza")
    conversation = factories.conversation(contact, status=ConversationStatus.closed)
    db.session.add(
        CsatResponse(conversation=conversation, inbox_id=surveyed.id, scale="faces", score=1,
                     comment="Atendente grosseiro, meu CPF é 123", asked_at=utcnow(), answered_at=utcnow())
    )
    db.session.flush()
    document = privacy.export_document(contact, [], {})
    assert document["satisfaction_surveys"][0]["comment"] == "Atendente grosseiro, meu CPF é 123"
    privacy.erase(contact, by=admin, confirmation="Maria Souza")
    survey = _survey(db)
    assert (survey.score, survey.comment) == (1, None)


def test_one_to_five_goes_out_as_a_list_and_a_list_reply_scores(
    db, surveyed, deliver, whatsapp_payload, run_jobs, graph_simulator
):
    admin = factories.agent(role=Role.admin)
    csat.save_config(surveyed, csat.CsatConfig(enabled=True, scale=csat.FIVE), by=admin)
    db.session.commit()
    _opened_and_closed(db, deliver, whatsapp_payload)
    run_jobs("outbound")
    [send] = graph_simulator.sends()
    interactive = send["interactive"]
    assert interactive["type"] == "list"  # five options: more than the three buttons Meta allows
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"]
    payload = whatsapp_payload("interactive_list_reply")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["list_reply"] = {
        "id": "csat:4",
        "title": rows[3]["title"],
    }
    deliver(_stamp(payload))
    assert _survey(db).score == 4
    assert _conversation_count(db) == 1
