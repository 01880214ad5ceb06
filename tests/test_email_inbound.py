"""Mail read from a real Dovecot IMAP server (tests/plugins/mail.py): what each kind of mail becomes.

Each mail is put into the support mailbox by IMAP APPEND, fetched by the fetch job and processed
by a real webhooks worker."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.channels.email import fetch, render
from portal.extensions import db
from portal.models import (
    Contact,
    Conversation,
    ConversationStatus,
    EmailReceipt,
    Message,
    SlaMetric,
    WebhookEvent,
    WebhookStatus,
)
from portal.services import conversations, webhook_events
from tests import factories
from tests.conftest import TEST_PASSWORD

CUSTOMER = "maria@cliente.test"


def mail(subject="Pedido 123", body="Olá, meu pedido não chegou.", sender=f"Maria Souza <{CUSTOMER}>", **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="cliente.test"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def deliver(mail_servers, *messages) -> None:
    mail_servers.append_many("support", [bytes(m) if not isinstance(m, bytes) else m for m in messages])


def messages_of(conversation) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)))


def test_a_plain_mail_becomes_a_contact_conversation_and_message(mail_servers, email_inbox, fetch_and_process):
    deliver(mail_servers, mail())
    events = fetch_and_process()
    assert [e.status for e in events] == [WebhookStatus.processed]
    contact = db.session.scalar(select(Contact).where(Contact.email == CUSTOMER))
    assert contact.name == "Maria Souza" and contact.phone is None
    conversation = db.session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))
    assert conversation.inbox_id == email_inbox.id and conversation.channel == "email"
    [message] = messages_of(conversation)
    assert message.body == "Olá, meu pedido não chegou." and message.message_type == "email"
    headers = message.payload_json["email"]
    assert headers["subject"] == "Pedido 123" and headers["from"] == CUSTOMER
    receipt = db.session.scalar(select(EmailReceipt))
    assert receipt.uid == headers["uid"] and receipt.message_id_header == headers["message_id"]
    # Nothing was deleted or flagged on the server.
    assert len(mail_servers.mailbox("support")) == 1


def test_html_only_mail_is_sanitized_and_loads_nothing_remote(mail_servers, email_inbox, fetch_and_process, login_as, client):
    html = (
        '<p onclick="steal()">Olá <b>equipe</b></p><script>alert(1)</script>'
        '<img src="http://127.0.0.1:9/pixel.gif" width="1" height="1"><a href="javascript:alert(2)">x</a>'
    )
    message = EmailMessage()
    message["From"] = CUSTOMER
    message["To"] = "support@example.com"
    message["Subject"] = "Só HTML"
    message["Message-ID"] = make_msgid()
    message.set_content(html, subtype="html")
    deliver(mail_servers, message)
    fetch_and_process()
    stored = db.session.scalar(select(Message))
    kept = stored.payload_json["email"]["html"]
    assert "<script" not in kept and "onclick" not in kept and "javascript:" not in kept
    assert stored.body.startswith("Olá equipe")
    agent = login_as()
    email_inbox.agents.append(agent)
    db.session.commit()
    page = client.get(f"/conversations/{stored.conversation_id}").get_data(as_text=True)
    assert "email-frame" in page and "pixel.gif" not in page
    frame = client.get(f"/conversations/{stored.conversation_id}/messages/{stored.id}/email")
    body = frame.get_data(as_text=True)
    assert "<b>equipe</b>" in body and "pixel.gif" not in body and "<script" not in body
    assert "img-src 'self' data:;" in frame.headers["Content-Security-Policy"]
    asked = client.get(f"/conversations/{stored.conversation_id}/messages/{stored.id}/email?remote=1")
    assert "pixel.gif" in asked.get_data(as_text=True) and "http:" in asked.headers["Content-Security-Policy"]


def test_a_three_mail_thread_stays_one_conversation(mail_servers, email_inbox, fetch_and_process):
    first = mail(subject="Troca de produto")
    deliver(mail_servers, first)
    fetch_and_process()
    conversation = db.session.scalar(select(Conversation))
    # The conversation is closed in between: the answer to the thread reopens it.
    conversations.change_status(conversation, ConversationStatus.closed, by=None)
    db.session.commit()
    second = mail(subject="Re: Troca de produto", body="Segue a foto.", In_Reply_To=first["Message-ID"],
                  References=first["Message-ID"])
    third = mail(subject="Re: Troca de produto", body="Alguma novidade?", In_Reply_To=second["Message-ID"],
                 References=f"{first['Message-ID']} {second['Message-ID']}")
    deliver(mail_servers, second, third)
    fetch_and_process()
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
    db.session.refresh(conversation)
    assert conversation.is_open
    assert [m.body for m in messages_of(conversation)] == ["Olá, meu pedido não chegou.", "Segue a foto.", "Alguma novidade?"]


def test_subject_reference_threads_a_mail_without_headers(mail_servers, email_inbox, fetch_and_process):
    deliver(mail_servers, mail())
    fetch_and_process()
    conversation = db.session.scalar(select(Conversation))
    conversations.change_status(conversation, ConversationStatus.closed, by=None)
    db.session.commit()
    deliver(mail_servers, mail(subject=f"Re: Pedido 123 [#{conversation.id}]", body="Sem cabeçalhos"))
    fetch_and_process()
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
    assert messages_of(conversation)[-1].body == "Sem cabeçalhos"


def test_a_5_mb_pdf_is_stored_like_whatsapp_media(app, mail_servers, email_inbox, fetch_and_process, login_as, client):
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * (5 * 1024 * 4)
    message = mail(subject="Nota fiscal", body="Segue a nota.")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="nota.pdf")
    deliver(mail_servers, message)
    fetch_and_process()
    attachment = db.session.scalar(select(Message).where(Message.message_type == "document"))
    assert attachment.media_filename == "nota.pdf" and attachment.media_mime_type == "application/pdf"
    agent = login_as()
    email_inbox.agents.append(agent)
    db.session.commit()
    response = client.get(f"/media/{attachment.id}")
    assert response.status_code == 200 and response.data == pdf
    assert response.headers["Content-Disposition"].startswith("attachment")
    # The same access rule as WhatsApp media: an agent outside the inbox gets 404.
    outsider = factories.agent()
    db.session.commit()
    other = app.test_client()
    other.post("/login", data={"email": outsider.email, "password": TEST_PASSWORD})
    assert other.get(f"/media/{attachment.id}").status_code == 404


def test_inline_images_show_through_the_media_route(mail_servers, email_inbox, fetch_and_process):
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    message = EmailMessage()
    message["From"] = CUSTOMER
    message["Subject"] = "Foto"
    message["Message-ID"] = make_msgid()
    message.set_content('<p>Veja:</p><img src="cid:foto1">', subtype="html")
    message.add_related(png, maintype="image", subtype="png", cid="<foto1>")
    deliver(mail_servers, message)
    fetch_and_process()
    mail_message = db.session.scalar(select(Message).where(Message.message_type == "email"))
    image = db.session.scalar(select(Message).where(Message.message_type == "image"))
    assert image.media_url is not None
    with current_app.test_request_context():
        assert f'src="/media/{image.id}"' in render.frame_html(mail_message, remote=False)


def test_an_auto_reply_is_stored_but_starts_no_sla(mail_servers, email_inbox, fetch_and_process):
    first = mail()
    deliver(mail_servers, first)
    fetch_and_process()
    conversation = db.session.scalar(select(Conversation))
    auto = mail(subject="Resposta automática: Pedido 123", body="Estou de férias.", Auto_Submitted="auto-replied",
                In_Reply_To=first["Message-ID"])
    stranger = mail(subject="Out of Office", body="Away", sender="someone@else.test", Auto_Submitted="auto-replied")
    deliver(mail_servers, auto, stranger)
    events = fetch_and_process()
    stored = messages_of(conversation)[-1]
    assert stored.body == "Estou de férias." and stored.is_automatic
    # The stranger's auto-reply opened nothing: no conversation, no SLA row.
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
    assert db.session.scalar(select(func.count()).select_from(SlaMetric)) == 1
    assert "automatic reply" in webhook_events.readable_error(events[-1].error)


@pytest.mark.parametrize(
    ("charset", "text"),
    [("iso-8859-1", "Atenção: ação válida"), ("windows-1252", "Preço “especial” de 10 €")],
)
def test_legacy_charsets_are_read(mail_servers, email_inbox, fetch_and_process, charset, text):
    raw = (
        f"From: {CUSTOMER}\r\nTo: support@example.com\r\n"
        "Subject: =?ISO-8859-1?Q?Solicita=E7=E3o_de_or=E7amento?=\r\n"
        f"Message-ID: {make_msgid()}\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + text.encode(charset) + b"\r\n"
    deliver(mail_servers, raw)
    fetch_and_process()
    message = db.session.scalar(select(Message))
    assert message.body == text
    assert message.payload_json["email"]["subject"] == "Solicitação de orçamento"


def test_windows_1252_labelled_latin_1_reads_as_windows_1252(mail_servers, email_inbox, fetch_and_process):
    raw = (
        f"From: {CUSTOMER}\r\nSubject: x\r\nMessage-ID: {make_msgid()}\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
    ).encode() + "“citação” – 5 €".encode("windows-1252")
    deliver(mail_servers, raw)
    fetch_and_process()
    assert db.session.scalar(select(Message.body)) == "“citação” – 5 €"


def test_a_mail_fetched_again_after_a_crash_is_stored_once(mail_servers, email_inbox, fetch_and_process, monkeypatch):
    deliver(mail_servers, mail(), mail(subject="Outro"))

    def killed():
        raise SystemExit("worker killed between fetch and commit")

    # The fetch has read both mails and written their rows; the process dies before the commit.
    monkeypatch.setattr(db.session, "commit", killed)
    with pytest.raises(SystemExit):
        fetch.fetch_inbox(email_inbox)
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(EmailReceipt)) == 0
    fetch_and_process()
    fetch_and_process()  # nothing new on the server
    assert db.session.scalar(select(func.count()).select_from(EmailReceipt)) == 2
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2
    # Processing one event again (a replay) adds nothing either.
    event = db.session.scalar(select(WebhookEvent).order_by(WebhookEvent.id))
    webhook_events.replay(event, by=None, enqueue_job=False)
    webhook_events.process(event.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2
    assert "already stored" in event.error
