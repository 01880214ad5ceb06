"""The RQ worker process: the Flask app is built once per process, jobs run without forking
inside it, and a timer thread enqueues the scheduled jobs (one worker wins each tick)."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from portal.extensions import db
from portal.jobs.schedule import SCHEDULE, Scheduled
from portal.queue import ALL_QUEUES, redis_connection

log = logging.getLogger(__name__)


class AppWorker(SimpleWorker):
    """Runs each job in the app context of the process's one app, with a fresh DB session."""

    app: Flask

    def perform_job(self, job, queue, *args, **kwargs):
        # rq 3 passes an `execution` too; pass through whatever this rq version sends.
        with self.app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


def build_worker(app: Flask, queue_names: tuple[str, ...] = ALL_QUEUES, name: str | None = None) -> AppWorker:
    connection = redis_connection(app)
    worker = AppWorker([Queue(q, connection=connection) for q in queue_names], connection=connection, name=name)
    worker.app = app
    return worker


def enqueue_due(connection: Redis, schedule: tuple[Scheduled, ...] = SCHEDULE) -> list[str]:
    """Enqueue each scheduled job whose interval has passed; a Redis key makes one worker win."""
    sent = []
    for item in schedule:
        if connection.set(f"atende:schedule:{item.func}", "1", nx=True, ex=item.every_seconds):
            Queue(item.queue, connection=connection).enqueue_call(item.func)
            sent.append(item.func)
    return sent


def _scheduler_loop(connection: Redis, stop: threading.Event, tick: float) -> None:
    while not stop.wait(tick):
        try:
            enqueue_due(connection)
        except Exception as exc:  # Redis away: try again next tick
            log.warning("scheduler tick failed: %s", type(exc).__name__)


def run(app: Flask, queue_names: tuple[str, ...] = ALL_QUEUES, burst: bool = False, tick: float = 5.0) -> None:
    worker = build_worker(app, queue_names)
    stop = threading.Event()
    if not burst:
        threading.Thread(
            target=_scheduler_loop, args=(worker.connection, stop, tick), daemon=True, name="atende-scheduler"
        ).start()
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()
