"""Nothing is lost when a worker dies mid-job: a real `python worker.py` is killed with SIGKILL
while it processes an event, the sweeper re-enqueues the event left pending, another worker
processes it, and its message is stored exactly once."""

import signal
from datetime import timedelta

from rq import Queue
from rq.job import JobStatus
from sqlalchemy import func, select

from portal.models import Message, WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS, redis_connection
from tests.worker_processes import event_row_locked, start_worker, stop_with_children, wait_until


def test_a_worker_killed_mid_job_loses_nothing_and_the_event_is_processed_once(
    app, db, database_url, redis_url, runner, post_whatsapp, whatsapp_payload, tmp_path
):
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200
    event_id = db.session.scalar(select(WebhookEvent.id))
    [job] = Queue(WEBHOOKS, connection=redis_connection()).jobs
    db.session.remove()
    log = tmp_path / "workers.log"

    with event_row_locked(database_url, event_id):
        doomed = start_worker(database_url, redis_url, log)
        try:
            wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 60, "the job to start")
        finally:
            stop_with_children(doomed)
    assert doomed.returncode == -signal.SIGKILL

    event = db.session.get(WebhookEvent, event_id)
    assert event.status == WebhookStatus.pending and event.attempts == 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0

    event.received_at -= timedelta(seconds=61)
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert "Re-enqueued 1 webhook event and" in result.output, result.output

    survivor = start_worker(database_url, redis_url, log, "--burst")
    assert survivor.wait(timeout=60) == 0, log.read_text()

    db.session.expire_all()
    event = db.session.get(WebhookEvent, event_id)
    assert event.status == WebhookStatus.processed, (event.error, log.read_text())
    assert event.attempts == 1
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
