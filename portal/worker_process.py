"""The RQ worker process: the Flask app is built once per process, jobs run without forking
inside it, and a timer thread enqueues the scheduled jobs (one worker wins each tick)."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested

from portal.extensions import db
from portal.jobs.schedule import Scheduled, scheduled
from portal.queue import ALL_QUEUES, redis_connection

log = logging.getLogger(__name__)

REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class AppWorker(SimpleWorker):
    """Runs each job in the app context of the process's one app, with a fresh DB session, and
    outlives a Redis outage.

    RQ's work loop quits on any Redis error outside its blocking dequeue, such as the bookkeeping
    after a job that ran while Redis went away. The job's database work is committed by then, and
    events whose jobs were lost with Redis are re-enqueued by the sweep, so the worker only has to
    wait for Redis and carry on. Left in Redis, if it kept its data: the interrupted job's entry in
    the started registry, which RQ's maintenance later moves to the failed registry (a dead letter
    whose requeue is harmless, processing being idempotent)."""

    app: Flask

    def perform_job(self, job, queue, *args, **kwargs):
        # rq 3 passes an `execution` too; pass through whatever this rq version sends.
        with self.app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()

    def execute_job(self, job, queue):
        self._outlasting_redis(super().execute_job, job, queue)

    def heartbeat(self, *args, **kwargs):
        self._outlasting_redis(super().heartbeat, *args, **kwargs)

    def check_for_suspension(self, burst: bool):
        self._outlasting_redis(super().check_for_suspension, burst)

    def run_maintenance_tasks(self):
        self._outlasting_redis(super().run_maintenance_tasks)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        # A None from here ends the work loop, so after an outage the dequeue is tried again.
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except REDIS_UNREACHABLE as exc:
                self._wait_for_redis(exc)

    def teardown(self):
        try:
            super().teardown()
        except REDIS_UNREACHABLE as exc:  # stopping while Redis is away: nothing left to tell it
            log.warning("worker %s: stopped without unregistering, Redis unreachable: %s", self.name, exc)

    def _outlasting_redis(self, call, *args, **kwargs) -> None:
        try:
            call(*args, **kwargs)
        except REDIS_UNREACHABLE as exc:
            self._wait_for_redis(exc)

    def _wait_for_redis(self, error: Exception) -> None:
        """Block until Redis answers; a stop request (SIGTERM) ends the wait and the worker."""
        log.warning("worker %s: Redis unreachable (%s); waiting for it", self.name, error)
        delay = 0.5
        while not self._stop_requested:
            time.sleep(delay)
            try:
                self.connection.ping()
            except REDIS_UNREACHABLE:
                delay = min(delay * 2, 10.0)
                continue
            log.warning("worker %s: Redis is back", self.name)
            return
        raise StopRequested()


def build_worker(app: Flask, queue_names: tuple[str, ...] = ALL_QUEUES, name: str | None = None) -> AppWorker:
    connection = redis_connection(app)
    worker = AppWorker([Queue(q, connection=connection) for q in queue_names], connection=connection, name=name)
    worker.app = app
    return worker


def enqueue_due(connection: Redis, schedule: tuple[Scheduled, ...] | None = None) -> list[str]:
    """Enqueue each scheduled job whose interval has passed; a Redis key makes one worker win."""
    sent = []
    for item in schedule if schedule is not None else scheduled():
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
