"""Auto-rules end to end: a signed WhatsApp notification, processed by the worker, fires the rules
and the outbound worker sends their templates to the Graph API."""

import json

import pytest
from sqlalchemy import select

from portal.models import AutoRule, Direction, Message, MessageStatus, MessageTemplate
from tests import factories


@pytest.fixture
def deliver(db, post_whatsapp, run_jobs):
    def _deliver(payload):
        assert post_whatsapp(payload).status_code == 200
        run_jobs("webhooks")
        db.session.expire_all()

    return _deliver


def _rule(db, trigger_key, template_key, body, **fields):
    template = MessageTemplate(template_key=template_key, body=body, language="pt_BR")
    db.session.add(AutoRule(trigger_key=trigger_key, template=template, enabled=True, **fields))
    db.session.commit()


def _automatic(db):
    return list(
        db.session.scalars(select(Message).where(Message.is_automatic.is_(True)).order_by(Message.id))
    )


def test_a_first_message_fires_welcome_and_keyword_rules_and_the_worker_sends_them(
    db, deliver, whatsapp_payload, run_jobs, graph_simulator
):
    # One customer message gets one automatic reply unless a rule allows a second: this one does.
    _rule(db, "conversation.opened", "boas_vindas", "Olá {{1}}, obrigado por escrever!")
    _rule(db, "message.keyword:entregam", "entregas", "Entregamos em todo o estado do Rio.", allow_second_reply=True)

    deliver(whatsapp_payload("text"))  # "Bom dia! Vocês entregam em Niterói?" from Maria Souza

    welcome, delivery = _automatic(db)
    assert (
        welcome.body == "Olá Maria, obrigado por escrever!" and delivery.template.template_key == "entregas"
    )
    run_jobs("outbound")
    sends = graph_simulator.sends()
    assert [s["template"]["name"] for s in sends] == ["boas_vindas", "entregas"]
    assert "Maria" in json.dumps(sends[0]["template"])
    db.session.expire_all()
    assert {m.status for m in _automatic(db)} == {MessageStatus.sent}


def test_without_a_second_reply_allowed_the_first_message_gets_only_the_welcome(db, deliver, whatsapp_payload):
    _rule(db, "conversation.opened", "boas_vindas", "Olá {{1}}, obrigado por escrever!")
    _rule(db, "message.keyword:entregam", "entregas", "Entregamos em todo o estado do Rio.")

    deliver(whatsapp_payload("text"))

    assert [m.template.template_key for m in _automatic(db)] == ["boas_vindas"]


def test_a_second_message_with_the_keyword_does_not_fire_the_rule_again(db, deliver, whatsapp_payload):
    _rule(db, "message.keyword:entregam", "entregas", "Entregamos em todo o estado do Rio.")
    first = whatsapp_payload("text")
    second = whatsapp_payload("text")
    second["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.second"

    deliver(first)
    deliver(second)

    assert len(_automatic(db)) == 1
    assert db.session.query(Message).filter_by(direction=Direction.inbound).count() == 2


def test_a_failed_status_for_an_agent_reply_fires_message_failed(db, deliver, whatsapp_payload):
    _rule(db, "message.failed", "falha_envio", "Não conseguimos enviar sua resposta; tente de novo.")
    conversation = factories.conversation(factories.contact(phone="+5521998765432"))
    reply = factories.message(
        conversation,
        Direction.outbound,
        external_id="wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND01",
        sender_agent_id=factories.agent().id,
    )
    db.session.commit()

    deliver(whatsapp_payload("status_failed_131047"))

    assert reply.status == MessageStatus.failed
    [automatic] = _automatic(db)
    assert automatic.conversation_id == conversation.id and automatic.template.template_key == "falha_envio"
