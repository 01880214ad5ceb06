"""Nothing is lost when a worker dies mid-job: a real `python worker.py` is killed with SIGKILL
while it processes an event, the sweeper re-enqueues the event left pending, another worker
processes it, and its message is stored exactly once."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from rq import Queue
from rq.job import JobStatus
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal.models import Message, WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS, redis_connection

ROOT = Path(__file__).resolve().parent.parent


def _worker(database_url: str, redis_url: str, log: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "ATENDE_ENV": "development"}
    return subprocess.Popen(
        [sys.executable, "worker.py", WEBHOOKS, *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@contextmanager
def _event_row_locked(database_url: str, event_id: int) -> Iterator[None]:
    """Hold a lock that makes a worker touching the event wait, from another connection."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT id FROM webhook_events WHERE id = :id FOR UPDATE"), {"id": event_id})
            yield
    finally:
        engine.dispose()


def _kill_with_children(process: subprocess.Popen) -> None:
    """SIGKILL the worker, then the RQ scheduler process it forked: a SIGKILLed worker leaves
    that child running (docs/benchmarks.md), and the test must not leak it."""
    children_file = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    children = [int(pid) for pid in children_file.read_text().split()] if children_file.exists() else []
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_job_loses_nothing_and_the_event_is_processed_once(
    app, db, database_url, redis_url, runner, post_whatsapp, whatsapp_payload, tmp_path
):
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200
    event_id = db.session.scalar(select(WebhookEvent.id))
    [job] = Queue(WEBHOOKS, connection=redis_connection()).jobs
    db.session.remove()
    log = tmp_path / "workers.log"

    with _event_row_locked(database_url, event_id):
        doomed = _worker(database_url, redis_url, log)
        try:
            _wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 60, "the job to start")
        finally:
            _kill_with_children(doomed)
    assert doomed.returncode == -signal.SIGKILL

    event = db.session.get(WebhookEvent, event_id)
    assert event.status == WebhookStatus.pending and event.attempts == 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0

    event.received_at -= timedelta(seconds=61)
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert "Re-enqueued 1 webhook event and" in result.output, result.output

    survivor = _worker(database_url, redis_url, log, "--burst")
    assert survivor.wait(timeout=60) == 0, log.read_text()

    db.session.expire_all()
    event = db.session.get(WebhookEvent, event_id)
    assert event.status == WebhookStatus.processed, (event.error, log.read_text())
    assert event.attempts == 1
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
