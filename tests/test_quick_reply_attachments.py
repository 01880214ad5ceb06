"""A quick reply may carry an attachment (portal.services.quick_replies): the file is checked by the
composer's rules and kept once; picked in the composer, it goes out through the attachments path
with the text as its caption, or the text first as a message of its own when it does not fit one;
a refused file leaves nothing; the CSV names the file on export and says it is not imported."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from portal.models import AuditLog, Direction, Message, MessageStatus, QuickReply, Role
from portal.queue import OUTBOUND
from portal.services import attachments, quick_replies
from portal.services.quick_replies import QuickReplyError
from tests import factories
from tests.attachment_files import PDF, ZIP, ogg_opus, png

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def no_attachments_yet(app):
    """MEDIA_ROOT lives as long as the test session: each test here starts without attachments."""
    shutil.rmtree(Path(app.config["MEDIA_ROOT"]) / "attachments", ignore_errors=True)


class File:
    """A file as a form brings it (werkzeug's FileStorage has the same three attributes)."""

    def __init__(self, data: bytes, filename: str, mimetype: str = "application/octet-stream"):
        self.stream, self.filename, self.mimetype = io.BytesIO(data), filename, mimetype


def _kept_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"]) / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _outbound(db) -> list[Message]:
    db.session.expire_all()
    return db.session.query(Message).filter_by(direction=Direction.outbound).order_by(Message.id).all()


def _pick(client, conversation, reply, body: str, **form):
    """What the composer posts when the agent picked `reply` with "/" (portal/static/attachments.js)."""
    return client.post(
        f"/conversations/{conversation.id}/attachments",
        data={"body": body, "quick_reply_id": str(reply.id), **form},
        headers={"HX-Request": "true"},
    )


def test_a_quick_reply_with_a_pdf_is_sent_as_a_document_with_its_text_as_caption(
    app, client, db, login_as, run_jobs, graph_simulator
):
    agent = login_as(Role.agent)
    reply = quick_replies.create(
        "tabela",
        "Olá {{contact.first_name}}, segue a tabela.",
        owner=None,
        by=agent,
        file=File(PDF, "tabela.pdf", "application/pdf"),
    )
    db.session.commit()
    assert (reply.media_filename, reply.media_mime_type, reply.media_size) == (
        "tabela.pdf",
        "application/pdf",
        len(PDF),
    )
    assert (Path(app.config["MEDIA_ROOT"]) / reply.media_url).read_bytes() == PDF
    conversation = factories.conversation(factories.contact(name="Fernanda Lima"))
    db.session.commit()

    [listed] = client.get(f"/conversations/{conversation.id}/quick-replies").get_json()
    assert listed["body"] == "Olá Fernanda, segue a tabela."
    assert listed["attachment"] == {"name": "tabela.pdf", "size": "1 KB", "audio": False}

    response = _pick(client, conversation, reply, listed["body"])
    assert response.status_code == 200, response.get_data(as_text=True)
    [message] = _outbound(db)
    assert (message.message_type, message.body, message.media_url) == (
        "document",
        listed["body"],
        reply.media_url,
    )
    assert message.sender_agent_id == agent.id

    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["document"] == {
        "id": _outbound(db)[0].media_id,
        "caption": listed["body"],
        "filename": "tabela.pdf",
    }
    assert graph_simulator.state.media[sent["document"]["id"]].data == PDF


def test_a_text_longer_than_a_caption_goes_first_as_its_own_message_then_the_file(
    db, login_as, client, run_jobs, graph_simulator
):
    agent = login_as(Role.agent)
    text = "Condições gerais. " * 70  # over the 1,024 a caption holds, within one message
    reply = quick_replies.create("termos", text, owner=agent, by=agent, file=File(PDF, "termos.pdf"))
    conversation = factories.conversation()
    db.session.commit()

    assert _pick(client, conversation, reply, text).status_code == 200
    first, second = _outbound(db)
    assert (first.message_type, first.body) == ("text", text.strip())
    assert (second.message_type, second.body, second.media_filename) == ("document", "", "termos.pdf")
    assert second.payload_json["split"]["previous"] == first.id

    run_jobs(OUTBOUND)
    assert [m.status for m in _outbound(db)] == [MessageStatus.sent, MessageStatus.sent]
    text_send, file_send = graph_simulator.sends()
    assert text_send["type"] == "text" and file_send["type"] == "document"
    assert "caption" not in file_send["document"]


def test_audio_takes_no_caption_so_its_text_goes_as_a_message_of_its_own(db, login_as, client):
    agent = login_as(Role.agent)
    reply = quick_replies.create(
        "audio", "Ouça as instruções", owner=agent, by=agent, file=File(ogg_opus(), "instrucoes.ogg")
    )
    conversation = factories.conversation()
    db.session.commit()
    assert _pick(client, conversation, reply, "Ouça as instruções").status_code == 200
    assert [(m.message_type, m.body) for m in _outbound(db)] == [
        ("text", "Ouça as instruções"),
        ("audio", ""),
    ]


@pytest.mark.parametrize(
    ("file", "reason"),
    [
        (File(ZIP, "tabela.pdf", "application/pdf"), "cannot be sent on WhatsApp"),
        (File(png(), "tabela.pdf", "application/pdf"), "extension does not match its content (image/png)"),
        (
            File(PDF, "tabela.pdf", "image/png"),
            "type (image/png) does not match its content (application/pdf)",
        ),
        (File(b"", "vazio.pdf", "application/pdf"), "The file is empty."),
        (File(PDF, "../../etc/tabela.pdf"), "may not contain / or \\"),
        (File(PDF, "tabela\x1b.pdf"), "may not contain control characters"),
        (File(png(padding=5 * MB), "grande.png", "image/png"), "Image files may have at most 5 MB."),
    ],
)
def test_a_bad_file_is_refused_on_its_field_and_nothing_is_saved_or_kept(app, db, file, reason):
    supervisor = factories.agent(role=Role.supervisor)
    with pytest.raises(QuickReplyError) as refused:
        quick_replies.create("tabela", "Segue", owner=None, by=supervisor, file=file)
    assert reason in refused.value.errors["file"]
    db.session.rollback()
    assert db.session.query(QuickReply).count() == 0
    assert _kept_files(app) == []


def test_a_clashing_shortcut_and_a_bad_file_are_shown_together_and_the_good_file_is_not_kept(app, db):
    supervisor = factories.agent(role=Role.supervisor)
    quick_replies.create("tabela", "Primeira", owner=None, by=supervisor)
    db.session.commit()
    with pytest.raises(QuickReplyError) as refused:
        quick_replies.create("tabela", "Segunda", owner=None, by=supervisor, file=File(PDF, "tabela.pdf"))
    assert set(refused.value.errors) == {"shortcut"}
    db.session.rollback()
    assert _kept_files(app) == []
    with pytest.raises(QuickReplyError) as refused:
        quick_replies.create("tabela", "Segunda", owner=None, by=supervisor, file=File(b"", "vazio.pdf"))
    assert set(refused.value.errors) == {"shortcut", "file"}


def test_the_pages_attach_show_replace_and_remove_the_file(app, client, db, login_as):
    login_as(Role.supervisor)
    response = client.post(
        "/quick-replies/new",
        data={
            "shortcut": "tabela",
            "body": "Segue a tabela",
            "file": (io.BytesIO(PDF), "tabela.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    reply = db.session.query(QuickReply).one()
    assert "tabela.pdf (1 KB)" in client.get("/quick-replies").get_data(as_text=True)
    assert "Attached: tabela.pdf (1 KB)" in client.get(f"/quick-replies/{reply.id}/edit").get_data(
        as_text=True
    )
    first_file = reply.media_url

    # Saved again without a file: the file stays.
    client.post(f"/quick-replies/{reply.id}/edit", data={"shortcut": "tabela", "body": "Nova"})
    db.session.refresh(reply)
    assert (reply.body, reply.media_url) == ("Nova", first_file)

    # A refused file changes nothing, not even the text.
    page = client.post(
        f"/quick-replies/{reply.id}/edit",
        data={
            "shortcut": "tabela",
            "body": "Outra",
            "file": (io.BytesIO(png()), "tabela.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "The file name&#39;s extension does not match its content (image/png)." in page
    db.session.refresh(reply)
    assert (reply.body, reply.media_url) == ("Nova", first_file)

    # Replaced: the old file, which no message names, is removed.
    client.post(
        f"/quick-replies/{reply.id}/edit",
        data={"shortcut": "tabela", "body": "Nova", "file": (io.BytesIO(png()), "foto.png", "image/png")},
        content_type="multipart/form-data",
    )
    db.session.refresh(reply)
    assert reply.media_filename == "foto.png"
    assert [p.name for p in _kept_files(app)] == [Path(reply.media_url).name]

    client.post(
        f"/quick-replies/{reply.id}/edit", data={"shortcut": "tabela", "body": "Nova", "remove_file": "y"}
    )
    db.session.refresh(reply)
    assert reply.media_url is None and _kept_files(app) == []
    actions = [
        row.details.get("file") for row in db.session.query(AuditLog).filter_by(action="quick_reply.updated")
    ]
    assert actions[-2:] == ["foto.png", None]


def test_a_file_a_sent_message_names_outlives_the_quick_reply(app, client, db, login_as):
    agent = login_as(Role.agent)
    reply = quick_replies.create("tabela", "Segue", owner=agent, by=agent, file=File(PDF, "tabela.pdf"))
    conversation = factories.conversation()
    db.session.commit()
    _pick(client, conversation, reply, "Segue")
    client.post(f"/profile/quick-replies/{reply.id}/delete")
    assert db.session.query(QuickReply).count() == 0
    [message] = _outbound(db)
    assert (Path(app.config["MEDIA_ROOT"]) / message.media_url).read_bytes() == PDF


def test_a_quick_reply_the_agent_may_not_use_sends_nothing(client, db, login_as):
    login_as(Role.agent)
    colleague = factories.agent()
    theirs = quick_replies.create("dele", "Segue", owner=colleague, by=colleague, file=File(PDF, "dele.pdf"))
    conversation = factories.conversation()
    db.session.commit()
    response = _pick(client, conversation, theirs, "Segue")
    assert response.status_code == 422
    assert "That quick reply no longer exists: choose another." in response.get_data(as_text=True)
    assert _outbound(db) == []


def test_a_file_too_large_for_the_form_is_refused_413_before_it_is_read(app, client, db, login_as):
    login_as(Role.supervisor)
    response = client.post(
        "/quick-replies/new",
        data=b"--x\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        environ_overrides={"CONTENT_LENGTH": str(200 * MB)},
    )
    assert response.status_code == 413
    assert "The file is too large: WhatsApp takes at most 100 MB." in response.get_data(as_text=True)
    assert db.session.query(QuickReply).count() == 0


def test_the_csv_names_the_file_on_export_and_says_import_leaves_it_out(client, db, login_as):
    supervisor = login_as(Role.supervisor)
    quick_replies.create("tabela", "Segue", owner=None, by=supervisor, file=File(PDF, "tabela.pdf"))
    quick_replies.create("oi", "Olá", owner=None, by=supervisor)
    db.session.commit()
    exported = client.get("/quick-replies/export.csv", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert exported.splitlines() == ["\ufeffshortcut,body,attachment", "oi,Olá,", "tabela,Segue,tabela.pdf"]

    csv_text = "shortcut,body,attachment\nprecos,Nossos preços,precos.pdf\nhorario,Das 8h às 18h,\n"
    page = client.post(
        "/quick-replies/import",
        data={"file": (io.BytesIO(csv_text.encode()), "replies.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "1 row names a file in its attachment column: a CSV file cannot carry it" in page
    client.post("/quick-replies/import/confirm", data={"csv_text": csv_text})
    imported = db.session.query(QuickReply).filter(QuickReply.shortcut.in_(["precos", "horario"])).all()
    assert len(imported) == 2 and all(reply.media_url is None for reply in imported)


def test_the_file_of_a_reply_is_checked_again_against_the_conversation(app, db):
    agent = factories.agent()
    reply = quick_replies.create("tabela", "Segue", owner=agent, by=agent, file=File(PDF, "tabela.pdf"))
    conversation = factories.conversation()
    db.session.commit()
    (Path(app.config["MEDIA_ROOT"]) / reply.media_url).unlink()
    with pytest.raises(attachments.AttachmentError, match="no longer kept"):
        quick_replies.send_attachment(conversation, reply, "Segue", by=agent)


def test_the_api_lists_a_replys_file(client, db):
    from tests.api_support import bearer, token_for

    agent = factories.agent()
    quick_replies.create(
        "tabela", "Segue", owner=agent, by=agent, file=File(PDF, "tabela.pdf", "application/pdf")
    )
    quick_replies.create("oi", "Olá", owner=agent, by=agent)
    db.session.commit()
    data = client.get("/api/v1/quick-replies", headers=bearer(token_for(agent))).get_json()["data"]
    assert [(r["shortcut"], r["attachment"]) for r in data] == [
        ("tabela", {"filename": "tabela.pdf", "mime_type": "application/pdf", "size": len(PDF)}),
        ("oi", None),
    ]


def test_erasing_a_contact_keeps_the_file_a_quick_reply_still_sends(app, client, db, login_as):
    from portal.services import privacy

    agent = login_as(Role.agent)
    reply = quick_replies.create("tabela", "Segue", owner=agent, by=agent, file=File(PDF, "tabela.pdf"))
    conversation = factories.conversation(factories.contact(name="Fernanda Lima"))
    db.session.commit()
    _pick(client, conversation, reply, "Segue")
    [message] = _outbound(db)
    assert message.media_url == reply.media_url

    privacy.erase(conversation.contact, by=factories.agent(role=Role.admin), confirmation="Fernanda Lima")
    db.session.commit()
    db.session.refresh(message)
    assert message.media_url is None
    assert (Path(app.config["MEDIA_ROOT"]) / reply.media_url).read_bytes() == PDF
