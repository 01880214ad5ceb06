"""Hostile and broken mails from a real Dovecot mailbox: each is stored safely or skipped with a
note on its event, and none stops the fetch of the mails around it. Plus the e-mail inbox's admin
page (settings, encrypted passwords, the test buttons)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import func, select

from portal import crypto
from portal.extensions import db
from portal.models import Contact, Inbox, Message, Role, WebhookStatus
from portal.services import webhook_events


def plain(subject: str, sender: str = "cliente@example.com") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = subject
    message["Message-ID"] = make_msgid()
    message.set_content(f"corpo de {subject}")
    return bytes(message)


def test_bad_mails_are_kept_safely_and_never_stop_the_fetch(app, mail_servers, email_inbox, fetch_and_process):
    app.config["EMAIL_MAX_BYTES"] = 20 * 1024 * 1024
    malformed = (
        b"From: quebrado@example.com\r\nSubject: quebrado\r\nMessage-ID: <broken@example.com>\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n"
    )
    huge = EmailMessage()
    huge["From"] = "grande@example.com"
    huge["Subject"] = "30 MB"
    huge["Message-ID"] = make_msgid()
    huge.set_content("anexo grande")
    huge.add_attachment(b"\0" * (30 * 1024 * 1024), maintype="application", subtype="octet-stream", filename="big.bin")
    crowd = EmailMessage()
    crowd["From"] = "lista@example.com"
    crowd["To"] = ", ".join(f"pessoa{i}@example.com" for i in range(500))
    crowd["Subject"] = "500 destinatários"
    crowd["Message-ID"] = make_msgid()
    crowd.set_content("para todos")
    trick = plain("Atualize sua senha", sender='"suporte@banco.com.br" <golpe@evil.example>')
    mail_servers.append_many(
        "support", [plain("antes"), malformed, bytes(huge), bytes(crowd), trick, plain("depois")]
    )
    events = fetch_and_process()
    assert len(events) == 6 and all(e.status == WebhookStatus.processed for e in events)
    notes = [webhook_events.readable_error(e.error) for e in events]
    bodies = {m.payload_json["email"]["subject"]: m for m in db.session.scalars(select(Message).where(Message.message_type == "email"))}
    assert {"antes", "depois", "quebrado", "30 MB", "500 destinatários", "Atualize sua senha"} <= set(bodies)
    assert "MIME structure is broken" in notes[1]
    assert "over the limit of 20971520 bytes" in notes[2] and bodies["30 MB"].payload_json["email"]["truncated"]
    assert "500 recipients; only the first 20 were kept" in notes[3]
    assert bodies["500 destinatários"].payload_json["email"]["recipient_count"] == 500
    assert "looked like an e-mail address" in notes[4]
    tricked = db.session.scalar(select(Contact).where(Contact.email == "golpe@evil.example"))
    assert tricked.name == "golpe" and "@" not in tricked.name


def test_a_mail_without_a_sender_is_noted_and_skipped(mail_servers, email_inbox, fetch_and_process):
    mail_servers.append_many("support", [b"Subject: sem remetente\r\n\r\ntexto\r\n", plain("normal")])
    events = fetch_and_process()
    assert "no sender address" in webhook_events.readable_error(events[0].error)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


def test_admin_creates_an_email_inbox_with_encrypted_passwords_and_tests_it(mail_servers, db, client, login_as):
    login_as(Role.admin)
    form = {
        "name": "Vendas", "imap_host": "127.0.0.1", "imap_port": mail_servers.imap_port, "imap_security": "none",
        "imap_user": "support", "imap_password": "mail-secret", "folder": "INBOX",
        "smtp_host": "127.0.0.1", "smtp_port": mail_servers.smtp_port, "smtp_security": "none",
        "smtp_user": "", "smtp_password": "", "from_name": "Vendas", "from_address": "vendas@example.com",
        "signature": "Equipe de vendas",
    }
    tested = client.post("/admin/inboxes/email/new", data={**form, "test": "imap"}).get_data(as_text=True)
    assert "IMAP works: the folder INBOX holds" in tested
    assert db.session.scalar(select(func.count()).select_from(Inbox)) == 1  # a test saves nothing
    tested = client.post("/admin/inboxes/email/new", data={**form, "test": "smtp"}).get_data(as_text=True)
    assert "SMTP works: the server accepted the connection." in tested
    wrong = client.post("/admin/inboxes/email/new", data={**form, "imap_password": "wrong", "test": "imap"})
    assert "The connection failed" in wrong.get_data(as_text=True)
    assert client.post("/admin/inboxes/email/new", data=form).status_code == 302
    inbox = db.session.scalar(select(Inbox).where(Inbox.name == "Vendas"))
    assert inbox.channel == "email" and "mail-secret" not in (inbox.access_token_encrypted or "")
    assert "mail-secret" in crypto.decrypt(inbox.access_token_encrypted)
    assert "mail-secret" not in str(inbox.settings)
    page = client.get(f"/admin/inboxes/{inbox.id}").headers["Location"]
    edit = client.get(page).get_data(as_text=True)
    assert "mail-secret" not in edit and "vendas@example.com" in edit
