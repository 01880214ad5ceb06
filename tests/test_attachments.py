"""Attachments from the composer and the API (docs/architecture.md, "Attachments"): checked
from their content against WhatsApp's kinds and sizes, kept under their sha256, uploaded to the
Graph API (the simulator) by the outbound job and sent by media id; refused with a clear reason
and nothing kept when they do not fit."""

from __future__ import annotations

import hashlib
import http.client
import io
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.models import Direction, Message, MessageStatus, Role, utcnow
from portal.queue import OUTBOUND
from portal.services import attachments
from tests import factories
from tests.api_support import bearer
from tests.attachment_files import PDF, TEXT, ZIP, ogg_opus, ogg_vorbis, png

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def no_attachments_yet(app):
    """MEDIA_ROOT lives as long as the test session: each test here starts without attachments."""
    shutil.rmtree(Path(app.config["MEDIA_ROOT"]) / "attachments", ignore_errors=True)


@pytest.fixture
def agent(login_as):
    return login_as(Role.agent)


def _attach(client, conversation, data: bytes, filename: str, mime: str = "", **form):
    files = {"file": (_stream(data), filename, mime or "application/octet-stream")}
    return client.post(
        f"/conversations/{conversation.id}/attachments",
        data={**files, **form},
        headers={"HX-Request": "true"},
        content_type="multipart/form-data",
    )


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def _kept_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"]) / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _outbound(db) -> list[Message]:
    db.session.expire_all()
    return db.session.query(Message).filter_by(direction=Direction.outbound).all()


def _uploads(graph_simulator) -> list[dict]:
    return [r for r in graph_simulator.requests if r["endpoint"] == "media_upload"]


def test_an_image_with_a_caption_is_kept_under_its_sha256_uploaded_then_sent_by_media_id(
    app, client, db, agent, run_jobs, graph_simulator
):
    conversation = factories.conversation()
    db.session.commit()
    image = png()

    response = _attach(client, conversation, image, "foto.png", "image/png", body="Segue a foto")
    assert response.status_code == 200, response.get_data(as_text=True)
    [message] = _outbound(db)
    digest = hashlib.sha256(image).hexdigest()
    assert (message.message_type, message.status, message.body) == ("image", MessageStatus.queued, "Segue a foto")
    assert (message.media_sha256, message.media_mime_type, message.media_filename) == (digest, "image/png", "foto.png")
    assert message.media_url == f"attachments/{digest[:2]}/{digest}.png"
    assert (Path(app.config["MEDIA_ROOT"]) / message.media_url).read_bytes() == image
    assert message.media_id is None

    run_jobs(OUTBOUND)
    [message] = _outbound(db)
    assert message.status == MessageStatus.sent
    [upload] = _uploads(graph_simulator)
    assert upload["upload"] == {"type": "image/png", "size": len(image), "sha256": digest, "filename": "foto.png"}
    [sent] = graph_simulator.sends()
    assert sent["type"] == "image"
    assert sent["image"] == {"id": message.media_id, "caption": "Segue a foto"}
    assert graph_simulator.state.media[message.media_id].data == image

    # The thread shows it, served to who may see the conversation only.
    assert client.get(f"/media/{message.id}").data == image
    factories.agent(email="other@example.com")
    conversation.assigned_to = factories.agent(email="holder@example.com").id
    db.session.commit()
    assert client.get(f"/media/{message.id}").status_code == 403


def test_a_retried_send_reuses_the_uploaded_media_id(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(131000, times=1, endpoint="messages")

    _attach(client, conversation, PDF, "nota.pdf", "application/pdf", body="NF")
    run_jobs(OUTBOUND)

    [message] = _outbound(db)
    assert message.status == MessageStatus.sent and message.send_attempts == 2
    assert len(_uploads(graph_simulator)) == 1
    refused, sent = graph_simulator.sends()
    assert refused["document"] == sent["document"] == {"id": message.media_id, "caption": "NF", "filename": "nota.pdf"}


def test_a_voice_note_is_sent_as_voice_audio_without_a_caption(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    db.session.commit()

    response = _attach(client, conversation, ogg_opus(), "voice-note.ogg", "audio/ogg; codecs=opus", voice="1")
    assert response.status_code == 200, response.get_data(as_text=True)
    run_jobs(OUTBOUND)

    [message] = _outbound(db)
    assert message.status == MessageStatus.sent and message.message_type == "audio"
    [upload] = _uploads(graph_simulator)
    assert upload["upload"]["type"] == "audio/ogg"
    [sent] = graph_simulator.sends()
    assert sent["audio"] == {"id": message.media_id, "voice": True}


@pytest.mark.parametrize(
    ("data", "filename", "mime", "form", "status", "reason"),
    [
        (png(), "contrato.pdf", "application/pdf", {}, 422, "extension does not match its content (image/png)"),
        (PDF, "nota", "image/png", {}, 422, "type (image/png) does not match its content (application/pdf)"),
        (b"", "vazio.pdf", "application/pdf", {}, 422, "The file is empty."),
        (PDF, "../../etc/nota.pdf", "application/pdf", {}, 422, "may not contain / or \\"),
        (PDF, "nota\x1b.pdf", "application/pdf", {}, 422, "may not contain control characters"),
        (PDF, "nota\u202e.pdf", "application/pdf", {}, 422, "may not contain control characters"),
        (ZIP, "pacote.zip", "application/zip", {}, 422, "cannot be sent on WhatsApp"),
        (ogg_vorbis(), "musica.ogg", "audio/ogg", {}, 422, "must use the Opus codec"),
        (PDF, "nota.pdf", "application/pdf", {"voice": "1"}, 422, "A voice note must be OGG audio"),
        (ogg_opus(), "audio.ogg", "audio/ogg", {"body": "legenda"}, 422, "Audio cannot carry a caption"),
        (PDF, "nota.pdf", "application/pdf", {"body": "x" * 1025}, 422, "at most 1024 characters"),
        (png(padding=5 * MB), "grande.png", "image/png", {}, 413, "Image files may have at most 5 MB."),
    ],
)
def test_bad_attachments_are_refused_with_a_reason_and_nothing_is_kept(
    app, client, db, agent, graph_simulator, data, filename, mime, form, status, reason
):
    conversation = factories.conversation()
    db.session.commit()

    response = _attach(client, conversation, data, filename, mime, **form)

    assert response.status_code == status
    assert reason in response.get_data(as_text=True)
    assert _outbound(db) == []
    assert _kept_files(app) == []
    assert graph_simulator.requests == []


@pytest.mark.parametrize("name", ["../nota.pdf", "pasta\\nota.pdf", "nota\r\n.pdf", "nota\x00.pdf", "", "..", "a" * 256])
def test_file_names_that_could_name_a_path_or_hide_characters_are_refused(name):
    with pytest.raises(attachments.AttachmentError):
        attachments.check_filename(name)


def test_a_text_file_is_a_document(client, db, agent):
    conversation = factories.conversation()
    db.session.commit()
    assert _attach(client, conversation, TEXT, "pedido.txt", "text/plain").status_code == 200
    [message] = _outbound(db)
    assert (message.message_type, message.media_mime_type) == ("document", "text/plain")


def test_the_same_file_twice_is_kept_once(app, client, db, agent):
    conversation = factories.conversation()
    db.session.commit()
    _attach(client, conversation, PDF, "a.pdf", "application/pdf")
    _attach(client, conversation, PDF, "b.pdf", "application/pdf")
    first, second = _outbound(db)
    assert first.media_url == second.media_url
    assert len(_kept_files(app)) == 1


def test_outside_the_24_hour_window_an_attachment_is_refused(app, client, db, agent):
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=25))
    db.session.commit()
    response = _attach(client, conversation, PDF, "nota.pdf", "application/pdf")
    assert response.status_code == 422
    assert _outbound(db) == [] and _kept_files(app) == []


def test_a_200_mb_upload_is_refused_413_before_its_body_is_read(app, db, agent, client):
    """A real HTTP server: the request declares 200 MB and sends only its first megabyte; the 413
    arrives while the rest was never sent, so nothing waited for (or held) the body."""
    conversation = factories.conversation()
    db.session.commit()
    cookie = client.get_cookie("session")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.putrequest("POST", f"/conversations/{conversation.id}/attachments")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(200 * MB))
        connection.putheader("Cookie", f"session={cookie.value}")
        connection.putheader("HX-Request", "true")
        connection.endheaders()
        connection.send(b"--x\r\n" + b"\x00" * MB)
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert response.status == 413
    assert "WhatsApp takes at most 100 MB" in body
    assert _outbound(db) == [] and _kept_files(app) == []


def test_the_api_sends_an_attachment_and_refuses_a_bad_one(app, client, db, run_jobs, graph_simulator):
    from portal.services import api_tokens

    agent = factories.agent()
    _token, plaintext = api_tokens.create(agent, "test")
    conversation = factories.conversation()
    db.session.commit()
    headers = bearer(plaintext)

    response = client.post(
        f"/api/v1/conversations/{conversation.id}/attachments",
        data={"file": (_stream(PDF), "nota.pdf", "application/pdf"), "caption": "NF"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["message_type"] == "document"

    refused = client.post(
        f"/api/v1/conversations/{conversation.id}/attachments",
        data={"file": (_stream(png()), "nota.pdf", "application/pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "cannot_send"

    huge = client.post(
        f"/api/v1/conversations/{conversation.id}/attachments",
        data=b"--x\r\n",
        headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
        environ_overrides={"CONTENT_LENGTH": str(200 * MB)},
    )
    assert huge.status_code == 413
    assert huge.get_json()["error"]["code"] == "too_large"

    run_jobs(OUTBOUND)
    assert [s["type"] for s in graph_simulator.sends()] == ["document"]
