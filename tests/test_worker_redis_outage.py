"""A worker outlives a Redis outage: Redis vanishes while a real `python worker.py` is inside a
job, the job's database work still commits, and once Redis is back the same process takes the
next job. No restart, nothing processed twice (docs/architecture.md, "Durability"; bench.drills.redis_outage)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
from rq import Queue
from rq.job import JobStatus
from sqlalchemy import func, select

from portal.models import Message, WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS
from portal.services.webhook_events import PROCESS_JOB
from tests.worker_processes import (
    PrivateRedis,
    event_row_locked,
    private_redis_server,
    start_worker,
    stop_with_children,
    wait_until,
)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with private_redis_server() as server:
        yield server


def _stored_event(db, post_whatsapp, payload) -> int:
    assert post_whatsapp(payload).status_code == 200
    return db.session.scalar(select(WebhookEvent.id).order_by(WebhookEvent.id.desc()))


def _status(db, event_id: int) -> WebhookStatus:
    db.session.expire_all()
    return db.session.get(WebhookEvent, event_id).status


def test_a_worker_survives_redis_vanishing_mid_job_and_takes_the_next_job_when_it_returns(
    app, db, database_url, private_redis, post_whatsapp, whatsapp_payload, tmp_path
):
    first = _stored_event(db, post_whatsapp, whatsapp_payload("text"))
    queue = Queue(WEBHOOKS, connection=private_redis.connection())
    job = queue.enqueue_call(PROCESS_JOB, args=(first,))
    db.session.remove()
    log = tmp_path / "worker.log"

    with event_row_locked(database_url, first):
        worker = start_worker(database_url, private_redis.url, log)
        try:
            wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 60, "the job to start")
            private_redis.stop()
        except BaseException:
            stop_with_children(worker)
            raise
    try:
        wait_until(lambda: _status(db, first) == WebhookStatus.processed, 30, "the job's event to commit")
        time.sleep(2)  # the job has ended while Redis is away: RQ's bookkeeping after it failed
        assert worker.poll() is None, log.read_text()

        private_redis.start()
        second_payload = whatsapp_payload("text")
        second_payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.after-the-outage"
        second = _stored_event(db, post_whatsapp, second_payload)
        Queue(WEBHOOKS, connection=private_redis.connection()).enqueue_call(PROCESS_JOB, args=(second,))
        db.session.remove()
        wait_until(lambda: _status(db, second) == WebhookStatus.processed, 60, "the job after the outage")
        assert worker.poll() is None, log.read_text()
    finally:
        stop_with_children(worker, signal.SIGTERM)
    assert worker.returncode == 0, log.read_text()

    assert db.session.scalar(select(func.count()).select_from(Message)) == 2
    assert "Redis unreachable" in log.read_text()
