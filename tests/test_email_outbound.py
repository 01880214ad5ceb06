"""Replies sent as e-mails through a real aiosmtpd server into the customer's Dovecot mailbox
(tests/plugins/mail.py): threading headers, subject, parts, signature, attachments, SMTP errors,
retries, dead letters and bounces."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from portal.channels import adapter_for
from portal.extensions import db
from portal.models import Conversation, Message, MessageStatus, utcnow
from portal.queue import OUTBOUND, redis_connection
from portal.services import attachments, outbound, webhook_events
from tests import factories

CUSTOMER = "customer@example.com"


def customer_writes(mail_servers, fetch_and_process, subject="Pedido atrasado", **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Cliente <{CUSTOMER}>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Meu pedido ainda não chegou.")
    mail_servers.append("support", bytes(message))
    fetch_and_process()
    return message


def received(mail_servers) -> list[EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in mail_servers.mailbox("customer")]


def reply(conversation: Conversation, body="Já verificamos: chega amanhã.") -> Message:
    agent = factories.agent()
    message = outbound.queue_reply(conversation, body, by=agent)
    db.session.commit()
    return message


def test_a_reply_reaches_the_customer_threaded_with_html_text_and_signature(
    mail_servers, email_inbox, fetch_and_process, run_jobs
):
    first = customer_writes(mail_servers, fetch_and_process, References="<older@example.com>")
    conversation = db.session.scalar(select(Conversation))
    # E-mail has no 24-hour window: a week-old mail may still be answered.
    conversation.last_inbound_at = utcnow() - timedelta(days=7)
    assert adapter_for(conversation).reply_refusal(conversation) is None
    sent = reply(conversation)
    run_jobs("outbound")
    db.session.refresh(sent)
    assert sent.status == MessageStatus.sent
    [mail] = received(mail_servers)
    assert mail["In-Reply-To"] == first["Message-ID"]
    assert mail["References"].split() == ["<older@example.com>", first["Message-ID"]]
    assert mail["Subject"] == f"Re: Pedido atrasado [#{conversation.id}]"
    assert mail["From"] == "Loja Atende <support@example.com>"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Já verificamos: chega amanhã." in text and "-- \r\nEquipe Loja Atende" in text
    assert "<p>Já verificamos: chega amanhã.</p>" in html and "Equipe Loja Atende" in html
    # The customer's answer to the reply threads back into the same conversation.
    customer_writes(mail_servers, fetch_and_process, subject=mail["Subject"], In_Reply_To=mail["Message-ID"])
    assert db.session.scalar(select(Conversation.id)) == conversation.id
    assert conversation.messages.count() == 3


def test_an_attachment_goes_out_with_the_reply(mail_servers, email_inbox, fetch_and_process, run_jobs):
    customer_writes(mail_servers, fetch_and_process)
    conversation = db.session.scalar(select(Conversation))
    attachments.send_attachment(
        conversation, io.BytesIO(b"%PDF-1.4 boleto"), "boleto.pdf", "application/pdf", "Segue o boleto.",
        by=factories.agent(),
    )
    db.session.commit()
    run_jobs("outbound")
    [mail] = received(mail_servers)
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "boleto.pdf" and attachment.get_content() == b"%PDF-1.4 boleto"


def test_an_smtp_5xx_fails_at_once_with_the_reason(mail_servers, email_inbox, fetch_and_process, run_jobs):
    customer_writes(mail_servers, fetch_and_process)
    mail_servers.refusals.append("550 5.1.1 Mailbox unavailable")
    sent = reply(db.session.scalar(select(Conversation)))
    run_jobs("outbound")
    db.session.refresh(sent)
    assert sent.status == MessageStatus.failed and sent.send_attempts == 1 and sent.error_code == 550
    assert outbound.failure(sent).reason == (
        "The mail server refused the customer's address: it may not exist (550 5.1.1 Mailbox unavailable)."
    )
    with current_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        from flask_babel import force_locale

        with force_locale("pt_BR"):
            assert outbound.failure(sent).reason.startswith("O servidor de e-mail recusou o endereço do cliente")


def test_an_smtp_4xx_is_retried_and_then_sent(mail_servers, email_inbox, fetch_and_process, run_jobs):
    customer_writes(mail_servers, fetch_and_process)
    mail_servers.refusals.append("451 4.3.0 Try again later")
    sent = reply(db.session.scalar(select(Conversation)))
    run_jobs("outbound")
    run_jobs("outbound")
    db.session.refresh(sent)
    assert sent.status == MessageStatus.sent and sent.send_attempts == 2
    assert len(received(mail_servers)) == 1


def test_exhausted_retries_become_a_dead_letter(app, mail_servers, email_inbox, fetch_and_process, run_jobs):
    customer_writes(mail_servers, fetch_and_process)
    mail_servers.refusals.extend(["421 4.7.0 Too busy"] * (outbound.SEND_RETRIES + 1))
    sent = reply(db.session.scalar(select(Conversation)))
    for _ in range(outbound.SEND_RETRIES + 1):
        run_jobs("outbound")
    db.session.refresh(sent)
    assert sent.status == MessageStatus.failed and sent.send_attempts == outbound.SEND_RETRIES + 1
    assert "Too busy" in sent.error_title
    registry = FailedJobRegistry(queue=Queue(OUTBOUND, connection=redis_connection(app)))
    assert len(registry.get_job_ids()) == 1
    assert received(mail_servers) == []


def test_a_bounce_marks_the_sent_reply_failed_with_the_reason(mail_servers, email_inbox, fetch_and_process, run_jobs):
    customer_writes(mail_servers, fetch_and_process)
    sent = reply(db.session.scalar(select(Conversation)))
    run_jobs("outbound")
    [mail] = received(mail_servers)
    dsn = (
        "From: MAILER-DAEMON@example.com\r\nTo: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid()}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {CUSTOMER}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <customer@example.com>: Recipient address rejected\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {mail['Message-ID']}\r\nSubject: {mail['Subject']}\r\n"
        "--b1--\r\n"
    ).encode()
    mail_servers.append("support", dsn)
    [event] = fetch_and_process()
    db.session.refresh(sent)
    assert sent.status == MessageStatus.failed and sent.error_code == 550
    assert "Recipient address rejected" in outbound.failure(sent).reason
    assert "marked it failed" in webhook_events.readable_error(event.error)
    # The bounce itself is no message in the thread.
    assert db.session.scalar(select(Conversation)).messages.count() == 2
