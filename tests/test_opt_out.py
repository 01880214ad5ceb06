"""Opt-out (issue 18, part 3, LGPD): a contact who writes an opt-out word alone is marked with the
time and the message; agents see a badge; an opt-in word, or a supervisor with a reason (audited),
brings them back; supervisors change the words."""

from sqlalchemy import select

from portal.models import AuditLog, Contact, Role, utcnow
from portal.services import opt_out
from tests import factories


def _say(whatsapp_payload, text: str, n: int):
    payload = whatsapp_payload("text")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = text
    message["id"] = f"wamid.optout{n}"
    message["timestamp"] = str(1732521600 + n)
    return payload


def _contact(db) -> Contact:
    db.session.expire_all()
    return db.session.scalar(select(Contact))


def test_an_opt_out_word_marks_the_contact_with_time_and_message(db, deliver, whatsapp_payload):
    deliver(_say(whatsapp_payload, "Bom dia, quero saber do pedido", 1))
    assert _contact(db).opted_out_at is None
    deliver(_say(whatsapp_payload, "  Sáir! ", 2))
    contact = _contact(db)
    assert contact.opted_out_at is not None and contact.opted_out_text == "  Sáir! "
    assert contact.opted_out_message_id is not None
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "contact.opted_out"))
    assert audit.target_id == str(contact.id) and audit.details["word"] == "SAIR"


def test_a_sentence_containing_the_word_does_not_opt_out(db, deliver, whatsapp_payload):
    deliver(_say(whatsapp_payload, "não quero parar de receber", 1))
    assert _contact(db).opted_out_at is None


def test_an_opt_in_word_brings_the_contact_back(db, deliver, whatsapp_payload):
    deliver(_say(whatsapp_payload, "STOP", 1), _say(whatsapp_payload, "voltar", 2))
    assert _contact(db).opted_out_at is None
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "contact.opted_out" in actions and "contact.opted_in" in actions


def test_agents_see_a_badge_in_the_thread_and_on_the_contact(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    conversation.contact.opted_out_at = conversation.started_at
    conversation.contact.opted_out_text = "PARAR"
    db.session.commit()
    assert "Opted out" in client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    page = client.get(f"/contacts/{conversation.contact_id}").get_data(as_text=True)
    assert "Opted out" in page and "opt-in-reason" not in page


def test_a_supervisor_opts_a_contact_back_in_with_a_reason_audited(client, db, login_as):
    supervisor = login_as(Role.supervisor)
    contact = factories.contact()
    contact.opted_out_at = utcnow()
    contact.opted_out_text = "SAIR"
    db.session.commit()
    response = client.post(f"/contacts/{contact.id}/opt-in", data={"reason": ""}, follow_redirects=True)
    assert "Say why" in response.get_data(as_text=True)
    client.post(f"/contacts/{contact.id}/opt-in", data={"reason": "Pediu por telefone para voltar"})
    db.session.expire_all()
    assert contact.opted_out_at is None
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "contact.opted_in"))
    assert audit.actor_id == supervisor.id and audit.details["reason"] == "Pediu por telefone para voltar"
    assert audit.details["previous"]["text"] == "SAIR"


def test_agents_cannot_override(client, db, login_as):
    login_as(Role.agent)
    contact = factories.contact()
    db.session.commit()
    assert client.post(f"/contacts/{contact.id}/opt-in", data={"reason": "x"}).status_code == 403


def test_supervisors_change_the_words(client, db, login_as, deliver, whatsapp_payload):
    login_as(Role.supervisor)
    page = client.get("/opt-out").get_data(as_text=True)
    assert "SAIR, PARAR, STOP, CANCELAR" in page
    response = client.post("/opt-out", data={"opt_out_words": "sair, voltar", "opt_in_words": "voltar"})
    assert response.status_code == 422 and "VOLTAR" in response.get_data(as_text=True)
    assert client.post("/opt-out", data={"opt_out_words": "", "opt_in_words": ""}).status_code == 422
    client.post("/opt-out", data={"opt_out_words": "Descadastrar, sair", "opt_in_words": "quero voltar"})
    assert opt_out.opt_out_words() == ["DESCADASTRAR", "SAIR"]
    deliver(_say(whatsapp_payload, "descadastrar", 1))
    assert _contact(db).opted_out_at is not None
    assert "descadastrar" in client.get("/opt-out").get_data(as_text=True)
