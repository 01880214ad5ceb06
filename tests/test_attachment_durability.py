"""An attachment whose worker dies mid-upload is sent once in the end: a real `python worker.py`
is SIGKILLed while the Graph API simulator is still taking the file, the sweep finds the message
no attempt holds any more, another worker uploads it again and sends it, and nothing sends it a
second time once WhatsApp's id for it is recorded (docs/architecture.md, "Durability" 7)."""

from __future__ import annotations

import io
import signal
from datetime import timedelta

from rq import Queue
from rq.job import JobStatus

from portal.models import Direction, Message, MessageStatus, Role
from portal.queue import OUTBOUND, redis_connection
from portal.services import outbound
from tests import factories
from tests.attachment_files import PDF
from tests.worker_processes import start_worker, stop_with_children, wait_until


def _uploads(graph_simulator) -> list[dict]:
    return [r for r in graph_simulator.requests if r["endpoint"] == "media_upload"]


def _document_sends(graph_simulator) -> list[dict]:
    return [s for s in graph_simulator.sends() if s["type"] == "document"]


def test_an_attachment_whose_worker_is_killed_mid_upload_is_sent_once(
    app, client, db, login_as, database_url, redis_url, runner, graph_simulator, tmp_path
):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    response = client.post(
        f"/conversations/{conversation.id}/attachments",
        data={"file": (io.BytesIO(PDF), "nota.pdf", "application/pdf"), "body": "NF 123"},
        headers={"HX-Request": "true"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    message = db.session.query(Message).filter_by(direction=Direction.outbound).one()
    message_id = message.id
    [job] = Queue(OUTBOUND, connection=redis_connection()).jobs
    db.session.remove()

    # The simulator holds the upload for 5 s (then takes it, as a real API may): time to kill.
    graph_simulator.fail("timeout", times=1, delay=5, endpoint="media_upload")
    env = {"WHATSAPP_API_BASE": graph_simulator.url, "MEDIA_ROOT": app.config["MEDIA_ROOT"]}
    log = tmp_path / "workers.log"
    doomed = start_worker(database_url, redis_url, log, env=env, queue=OUTBOUND)
    try:
        wait_until(lambda: len(_uploads(graph_simulator)) == 1 or doomed.poll() is not None, 120, "the upload to start")
        assert doomed.poll() is None, log.read_text()
    finally:
        stop_with_children(doomed)
    assert doomed.returncode == -signal.SIGKILL
    assert job.get_status(refresh=True) == JobStatus.STARTED

    message = db.session.get(Message, message_id)
    assert message.status == MessageStatus.queued and message.send_attempts == 1
    assert message.media_id is None and message.external_id is None
    assert _document_sends(graph_simulator) == []

    # Time passes: the dead attempt's claim expires and the sweep finds the message no job waits for.
    message.send_claimed_until -= timedelta(minutes=5)
    message.send_attempted_at -= timedelta(minutes=5)
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert "and 1 message" in result.output, result.output
    db.session.remove()

    survivor = start_worker(database_url, redis_url, log, "--burst", env=env, queue=OUTBOUND)
    assert survivor.wait(timeout=180) == 0, log.read_text()

    message = db.session.get(Message, message_id)
    assert message.status == MessageStatus.sent, (message.error_title, log.read_text())
    assert message.send_attempts == 2
    [sent] = _document_sends(graph_simulator)
    assert sent["document"]["id"] == message.media_id
    assert graph_simulator.state.media[message.media_id].data == PDF

    # Once WhatsApp's id is recorded, nothing sends it again: not the sweep, not a stray job.
    assert "and 0 messages" in runner.invoke(args=["sweep"]).output
    outbound.enqueue_send(message)
    db.session.commit()
    db.session.remove()
    again = start_worker(database_url, redis_url, log, "--burst", env=env, queue=OUTBOUND)
    assert again.wait(timeout=180) == 0, log.read_text()
    assert len(_document_sends(graph_simulator)) == 1
    assert db.session.get(Message, message_id).status == MessageStatus.sent
