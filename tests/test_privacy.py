"""LGPD tools: exporting everything about a contact as a ZIP, erasing a contact (nothing of it left
in any table's text or any file), and the retention policy per inbox with its dry run."""

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, func, select

from portal.extensions import db as _db
from portal.jobs.privacy import apply_retention
from portal.models import (
    AuditLog,
    Contact,
    CrmDelivery,
    Direction,
    Incident,
    Message,
    ScheduledMessage,
    ScheduledMessageStatus,
    Severity,
    WebhookEvent,
    utcnow,
)
from portal.services import audit, contact_admin, custom_fields, privacy
from tests import factories

NAME = "Zéfiro Quintanilha"
PHONE_DIGITS = "5511987650042"
EMAIL = "zefiro.q@example.com"
SECRETS = (
    "Quintanilha",
    PHONE_DIGITS,
    "987650042",
    "zefiro.q@",
    "segredo",
    "52998224725",
    "zefiro-rg",
    "Rua das Flores",
)


def _media(app, message, relative, content, filename):
    path = Path(app.config["MEDIA_ROOT"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    message.media_url, message.media_filename, message.media_mime_type = relative, filename, "application/pdf"
    return path


@pytest.mark.parametrize(
    ("stored", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/x.pdf", "x.pdf"),
        ("..", "file"),
        ("a\x00b\x1f.pdf", "ab.pdf"),
        ("con:<x>|?.txt", "conx.txt"),
        ("   .hidden ", "hidden"),
        ("", "file"),
    ],
)
def test_safe_name_keeps_only_a_plain_file_name(stored, safe):
    assert privacy.safe_name(stored, "file") == safe


def test_the_export_zip_holds_the_contact_its_messages_and_media_with_safe_names(app, client, db, login_as):
    admin = login_as("admin")
    contact = factories.contact(name=NAME, email=EMAIL)
    conversation = factories.conversation(contact)
    factories.message(conversation, body="segredo um")
    factories.message(
        conversation,
        Direction.internal,
        body="nota interna",
        message_type="note",
        status="sent",
        external_id=None,
    )
    tricky = factories.message(conversation, body="", message_type="document")
    _media(app, tricky, f"{conversation.id}/{tricky.id}.pdf", b"%PDF-1 conteudo", "../../../etc/passwd")
    windows = factories.message(conversation, body="", message_type="document")
    _media(app, windows, f"{conversation.id}/{windows.id}.pdf", b"%PDF-2", "..\\..\\boot.ini")
    db.session.commit()

    response = client.get(f"/contacts/{contact.id}/privacy/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert names == ["contact.json", f"media/{tricky.id}-passwd", f"media/{windows.id}-boot.ini"]
    for name in names:
        assert not name.startswith("/") and ".." not in name and "\\" not in name
    assert archive.read(f"media/{tricky.id}-passwd") == b"%PDF-1 conteudo"
    document = json.loads(archive.read("contact.json"))
    assert document["contact"]["name"] == NAME and document["contact"]["email"] == EMAIL
    [exported] = document["conversations"]
    assert [m["body"] for m in exported["messages"]][:2] == ["segredo um", "nota interna"]
    assert exported["messages"][2]["media_file"] == f"media/{tricky.id}-passwd"
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "contact.exported")).one()
    assert (entry.actor_id, entry.target_id, entry.details["files"]) == (admin.id, str(contact.id), 2)


def test_agents_and_supervisors_cannot_export_or_erase(client, db, login_as):
    login_as("supervisor")
    contact = factories.contact()
    db.session.commit()
    assert client.get(f"/contacts/{contact.id}/privacy/export.zip").status_code == 403
    assert (
        client.post(f"/contacts/{contact.id}/privacy/erase", data={"confirmation": contact.name}).status_code
        == 403
    )


def _text_values():
    """Every value of every text-like column of every table, as text."""
    for table in _db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in _db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    yield (
                        f"{table.name}.{column.name}",
                        json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value,
                    )


def _leaks():
    return sorted(
        {(where, secret) for where, value in _text_values() for secret in SECRETS if secret in value}
    )


def test_erasing_leaves_no_text_or_file_of_the_contact_anywhere(app, client, db, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_URL", "http://crm.invalid/hook")
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", "s")
    admin = login_as("admin")
    custom_fields.create_definition(entity="contact", key="cpf", label="CPF", field_type="cpf", by=admin)
    custom_fields.create_definition(
        entity="conversation", key="endereco", label="Endereço", field_type="text", by=admin
    )
    contact = contact_admin.create(
        name=NAME,
        phone=f"+{PHONE_DIGITS}",
        email=EMAIL,
        city="Recife",
        custom={"cpf": "529.982.247-25"},
        by=admin,
    )
    other = factories.contact(name="Outra Pessoa")
    conversation = factories.conversation(contact)
    custom_fields.update_conversation(conversation, {"endereco": "Rua das Flores, 12"}, by=admin)
    kept_conversation = factories.conversation(other)
    inbound = factories.message(conversation, body="segredo: meu RG é 12.345")
    factories.message(conversation, Direction.outbound, body="Recebi seu segredo, Zéfiro Quintanilha")
    factories.message(
        conversation,
        Direction.internal,
        body="nota: segredo do cliente",
        message_type="note",
        status="sent",
        external_id=None,
    )
    document = factories.message(conversation, body="", message_type="document")
    media = _media(app, document, f"{conversation.id}/{document.id}.pdf", b"segredo em PDF", "zefiro-rg.pdf")
    # The same content-addressed attachment sent to someone else stays for them.
    shared_relative = "attachments/ab/shared.pdf"
    shared_mine = factories.message(conversation, Direction.outbound, body="", message_type="document")
    shared = _media(app, shared_mine, shared_relative, b"folheto", "folheto.pdf")
    shared_theirs = factories.message(kept_conversation, Direction.outbound, body="", message_type="document")
    shared_theirs.media_url = shared_relative
    _db.session.add(
        WebhookEvent(
            provider="whatsapp",
            event_type="messages",
            payload_json={
                "entry": [
                    {
                        "changes": [
                            {
                                "value": {
                                    "contacts": [{"wa_id": PHONE_DIGITS, "profile": {"name": NAME}}],
                                    "messages": [{"id": inbound.external_id, "text": {"body": "segredo"}}],
                                }
                            }
                        ]
                    }
                ]
            },
        )
    )
    _db.session.add(
        ScheduledMessage(
            conversation_id=conversation.id,
            body="Lembrete do segredo",
            send_at=utcnow() + timedelta(days=1),
            status=ScheduledMessageStatus.pending,
        )
    )
    _db.session.add(
        Incident(conversation_id=conversation.id, severity=Severity.low, notes="Cliente Quintanilha bravo")
    )
    audit.record("contacts.listed", actor=admin, target=("contacts", None), q=NAME)
    db.session.commit()
    assert _leaks(), "the test's data should contain the secrets before the erasure"
    messages_before = db.session.scalar(select(func.count()).select_from(Message))
    deliveries_before = db.session.scalar(select(func.count()).select_from(CrmDelivery))

    page = client.get(f"/contacts/{contact.id}/privacy").get_data(as_text=True)
    assert "cannot be undone" in page and "remove the text of 5 messages" in page
    wrong = client.post(f"/contacts/{contact.id}/privacy/erase", data={"confirmation": "Zefiro"})
    assert wrong.status_code == 200 and "Type the contact" in wrong.get_data(as_text=True)
    assert db.session.get(Contact, contact.id).name == NAME

    done = client.post(
        f"/contacts/{contact.id}/privacy/erase", data={"confirmation": " zéfiro  quintanilha "}
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert _leaks() == []
    assert not media.exists() and shared.exists()
    assert not [
        p for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file() and b"segredo" in p.read_bytes()
    ]
    erased = db.session.get(Contact, contact.id)
    assert erased.erased_at is not None and erased.phone is None and erased.name == f"#{contact.id}"
    # Report counts are kept: the rows stay, empty.
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages_before
    assert db.session.scalar(select(func.count()).select_from(CrmDelivery)) == deliveries_before
    assert db.session.get(Message, shared_theirs.id).media_url == shared_relative
    assert db.session.scalars(select(ScheduledMessage)).one().status == ScheduledMessageStatus.cancelled
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "contact.erased")).one()
    assert entry.actor_id == admin.id and entry.at is not None
    assert entry.details == {"conversations": 1, "messages": 5, "files": 1}
    # Irreversible and final: no second erasure, no edit.
    again = client.post(f"/contacts/{contact.id}/privacy/erase", data={"confirmation": erased.name})
    assert again.status_code == 200 and "This contact was erased on" in again.get_data(as_text=True)
    with pytest.raises(contact_admin.ContactValidationError, match="erased"):
        contact_admin.update(erased, by=admin, name="De volta")


def test_retention_dry_run_then_the_job_clears_old_text_and_media(app, client, db, login_as):
    admin = login_as("admin")
    inbox = factories.default_inbox()
    other_inbox = factories.inbox()
    conversation = factories.conversation()
    now = utcnow()
    old = factories.message(conversation, body="antiga", sent_at=now - timedelta(days=400))
    old_file = _media(app, old, f"{conversation.id}/{old.id}.pdf", b"velho", "velho.pdf")
    recent = factories.message(conversation, body="recente", sent_at=now - timedelta(days=20))
    old_event = WebhookEvent(
        provider="whatsapp",
        event_type="messages",
        received_at=now - timedelta(days=400),
        payload_json={"messages": [{"id": old.external_id, "text": {"body": "antiga"}}]},
    )
    recent_event = WebhookEvent(
        provider="whatsapp",
        event_type="messages",
        received_at=now - timedelta(days=20),
        payload_json={"messages": [{"id": recent.external_id, "text": {"body": "recente"}}]},
    )
    db.session.add_all([old_event, recent_event])
    elsewhere = factories.message(
        factories.conversation(inbox=other_inbox), body="outra caixa", sent_at=now - timedelta(days=400)
    )
    db.session.commit()

    dry_run = client.post(f"/admin/retention/{inbox.id}", data={"months": "12"})
    text = dry_run.get_data(as_text=True)
    assert dry_run.status_code == 200 and "remove the text of 1 messages and delete 1 stored files" in text
    db.session.expire_all()
    assert privacy.retention_months(inbox) is None  # nothing saved by the dry run
    assert db.session.get(Message, old.id).body == "antiga"

    assert (
        client.post(f"/admin/retention/{inbox.id}", data={"months": "12", "confirmed": "yes"}).status_code
        == 302
    )
    db.session.expire_all()
    assert privacy.retention_months(inbox) == 12
    assert client.post(f"/admin/retention/{inbox.id}", data={"months": "0"}).status_code == 302
    db.session.expire_all()
    assert privacy.retention_months(inbox) == 12  # 0 refused

    assert apply_retention(now=now) == 1
    db.session.expire_all()
    cleared = db.session.get(Message, old.id)
    assert (cleared.body, cleared.media_url, cleared.media_filename) == (
        "",
        None,
        None,
    ) and not old_file.exists()
    assert db.session.get(Message, recent.id).body == "recente"
    assert db.session.get(WebhookEvent, old_event.id).payload_json == {"erased": True}
    assert (
        db.session.get(WebhookEvent, recent_event.id).payload_json["messages"][0]["text"]["body"] == "recente"
    )
    assert db.session.get(Message, elsewhere.id).body == "outra caixa"
    assert apply_retention(now=now) == 0  # nothing left to do the second time
    applied = db.session.scalars(select(AuditLog).where(AuditLog.action == "retention.applied")).one()
    assert applied.details == {"months": 12, "messages": 1, "files": 1, "webhook_events": 1}
    assert (
        db.session.scalars(select(AuditLog).where(AuditLog.action == "inbox.retention_changed"))
        .one()
        .actor_id
        == admin.id
    )


def test_months_before_keeps_the_day_within_the_month():
    from datetime import datetime

    assert privacy.months_before(datetime(2026, 3, 31, 10), 1) == datetime(2026, 2, 28, 10)
    assert privacy.months_before(datetime(2026, 1, 15), 13) == datetime(2024, 12, 15)
