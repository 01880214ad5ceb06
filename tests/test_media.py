"""Inbound media: downloaded through the Graph API by the worker, checked against its sha256, kept
under MEDIA_ROOT, and served only to agents who may see the conversation.

The webhooks carry the sha256 as Meta sends it, base64 (docs/architecture.md, "WhatsApp"); the
media endpoint answers it in hex."""

import base64
import hashlib
from pathlib import Path

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from portal.models import Message, Role
from portal.queue import OUTBOUND, redis_connection
from tests import factories

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes" * 50
PDF = b"%PDF-1.4 nota fiscal"


@pytest.fixture
def receive_media(db, graph_simulator, post_whatsapp, whatsapp_payload, run_jobs):
    """Deliver an image (or document) webhook whose media the simulator holds; run both queues."""

    def receive(name="image", data=JPEG, mime_type="image/jpeg", sha256=None, register=True) -> Message:
        payload = whatsapp_payload(name)
        media_type = "document" if name == "document" else "image"
        content = payload["entry"][0]["changes"][0]["value"]["messages"][0][media_type]
        content["sha256"] = base64.b64encode(hashlib.sha256(data).digest()).decode() if sha256 is None else sha256
        if register:
            graph_simulator.add_media(data, mime_type, media_id=content["id"])
        assert post_whatsapp(payload).status_code == 200
        run_jobs("webhooks", "outbound")
        db.session.expire_all()
        return db.session.scalar(select(Message))

    return receive


def test_the_worker_downloads_checks_and_stores_the_media(app, receive_media, graph_simulator):
    message = receive_media()
    assert message.media_url == f"{message.conversation_id}/{message.id}.jpg"
    assert (Path(app.config["MEDIA_ROOT"]) / message.media_url).read_bytes() == JPEG
    calls = [(r["endpoint"], r["authorization"]) for r in graph_simulator.requests]
    bearer = f"Bearer {app.config['WHATSAPP_ACCESS_TOKEN']}"
    assert calls == [("media_info", bearer), ("media_bytes", bearer)]
    assert graph_simulator.requests[0]["path"].endswith("/1479537139650973")


def test_media_whose_sha256_does_not_match_is_not_stored_and_retried(receive_media, graph_simulator):
    message = receive_media(sha256=base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode())
    assert message.media_url is None
    assert message.error_title == "The downloaded media does not match its checksum."
    assert len([r for r in graph_simulator.requests if r["endpoint"] == "media_bytes"]) == 4
    assert len(FailedJobRegistry(queue=Queue(OUTBOUND, connection=redis_connection()))) == 1


def test_the_fixtures_carry_the_sha256_in_base64_as_meta_sends_it(whatsapp_payload):
    for name, media_type in [("image", "image"), ("document", "document"), ("audio_voice", "audio")]:
        content = whatsapp_payload(name)["entry"][0]["changes"][0]["value"]["messages"][0][media_type]
        assert len(base64.b64decode(content["sha256"], validate=True)) == 32


def test_a_hex_sha256_is_accepted_too(receive_media):
    message = receive_media(sha256=hashlib.sha256(JPEG).hexdigest().upper())
    assert message.media_url is not None and message.error_title is None


def test_without_a_sha256_in_the_webhook_the_media_endpoints_hex_is_checked(receive_media, graph_simulator):
    graph_simulator.add_media(JPEG, "image/jpeg", media_id="1479537139650973", sha256="0" * 64)
    message = receive_media(sha256="", register=False)
    assert message.media_url is None
    assert message.error_title == "The downloaded media does not match its checksum."


def test_a_transient_graph_error_is_retried_until_the_download_succeeds(receive_media, graph_simulator):
    graph_simulator.fail(500, times=2, endpoint="media_info")
    message = receive_media()
    assert message.media_url is not None and message.error_title is None


def test_media_unknown_to_the_graph_api_fails_at_once_with_the_reason(receive_media, graph_simulator):
    message = receive_media(register=False)
    assert message.media_url is None
    assert message.error_code == 100
    assert len([r for r in graph_simulator.requests if r["endpoint"] == "media_info"]) == 1


def test_an_agent_who_may_see_the_conversation_gets_the_file(client, login_as, receive_media):
    message = receive_media()
    login_as(Role.agent)
    response = client.get(f"/media/{message.id}")
    assert response.status_code == 200
    assert response.data == JPEG
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in response.headers.get("Content-Disposition", "")


def test_a_document_downloads_as_an_attachment_with_its_filename(client, login_as, receive_media):
    message = receive_media("document", data=PDF, mime_type="application/pdf")
    login_as(Role.agent)
    response = client.get(f"/media/{message.id}")
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "NF-2024-118.pdf" in response.headers["Content-Disposition"]


def test_an_agent_does_not_get_media_of_a_conversation_assigned_to_someone_else(db, client, login_as, receive_media):
    message = receive_media()
    message.conversation.assigned_to = factories.agent().id
    db.session.commit()
    login_as(Role.agent)
    assert client.get(f"/media/{message.id}").status_code == 403


def test_a_supervisor_gets_media_of_any_conversation(db, client, login_as, receive_media):
    message = receive_media()
    message.conversation.assigned_to = factories.agent().id
    db.session.commit()
    login_as(Role.supervisor)
    assert client.get(f"/media/{message.id}").status_code == 200


def test_anonymous_users_are_sent_to_login(client, receive_media):
    message = receive_media()
    response = client.get(f"/media/{message.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_media_not_downloaded_yet_is_not_found(db, client, login_as):
    message = factories.message(factories.conversation(), media_id="123", message_type="image")
    db.session.commit()
    login_as(Role.agent)
    assert client.get(f"/media/{message.id}").status_code == 404
    assert client.get("/media/999999").status_code == 404
