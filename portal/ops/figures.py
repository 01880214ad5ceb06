"""The operating figures behind /metrics and the admin health page, read from Redis and the
database when asked (at scrape time), so every gunicorn worker reports the same numbers and
nothing has to be shared between processes (docs: README, "Metrics and health")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from portal import queue as queues
from portal.extensions import db
from portal.models import Direction, Message, MessageStatus, WebhookEvent, WebhookStatus, utcnow

RECENT = timedelta(minutes=15)  # the window of the lag and latency means
FAILURE_WINDOW = timedelta(hours=1)  # the window of the send failures by code
SAMPLE_LIMIT = 1000  # rows a mean is taken over at most, newest first
OPEN_STREAMS_KEY = "atende:ops:open_streams"  # a hash: stream process -> its open streams
OPEN_STREAMS_TTL = 60


@dataclass(frozen=True)
class QueueFigures:
    name: str
    depth: int
    oldest_age: float | None
    failed: int


@dataclass(frozen=True)
class Figures:
    queues: list[QueueFigures]
    webhook_pending: int
    webhook_failed: int
    webhook_oldest_pending_age: float | None
    inbound_lag: float | None
    send_latency: float | None
    send_failures: dict[str, int] = field(default_factory=dict)
    open_streams: int = 0


def report_open_streams(redis, process: str, count: int) -> None:
    """Called by a stream server every few seconds with the streams it holds open; a process that
    stops reporting drops out after OPEN_STREAMS_TTL seconds."""
    pipe = redis.pipeline()
    pipe.hset(OPEN_STREAMS_KEY, process, f"{count}:{utcnow().timestamp():.0f}")
    pipe.expire(OPEN_STREAMS_KEY, OPEN_STREAMS_TTL)
    pipe.execute()


def _open_streams(redis, now: datetime) -> int:
    total = 0
    for value in redis.hgetall(OPEN_STREAMS_KEY).values():
        count, _, stamp = value.decode().partition(":")
        if now.timestamp() - float(stamp or 0) <= OPEN_STREAMS_TTL:
            total += int(count)
    return total


def _queue_figures(now: datetime) -> list[QueueFigures]:
    found = []
    for name in queues.ALL_QUEUES:
        queue = queues.get_queue(name)
        first_ids = queue.get_job_ids(0, 1)
        first = queue.fetch_job(first_ids[0]) if first_ids else None
        enqueued = first.enqueued_at if first else None
        age = (now - enqueued.replace(tzinfo=None)).total_seconds() if enqueued else None
        found.append(QueueFigures(name, queue.count, age, FailedJobRegistry(queue=queue).count))
    return found


def _mean_seconds(pairs) -> float | None:
    spans = [(end - start).total_seconds() for start, end in pairs if start and end]
    return sum(spans) / len(spans) if spans else None


def gather() -> Figures:
    now = utcnow()
    counts = dict(
        db.session.execute(
            select(WebhookEvent.status, func.count())
            .where(WebhookEvent.status.in_([WebhookStatus.pending, WebhookStatus.failed]))
            .group_by(WebhookEvent.status)
        ).all()
    )
    oldest_pending = db.session.scalar(
        select(func.min(WebhookEvent.received_at)).where(WebhookEvent.status == WebhookStatus.pending)
    )
    processed = db.session.execute(
        select(WebhookEvent.received_at, WebhookEvent.processed_at)
        .where(WebhookEvent.status == WebhookStatus.processed, WebhookEvent.received_at >= now - RECENT)
        .order_by(WebhookEvent.received_at.desc())
        .limit(SAMPLE_LIMIT)
    ).all()
    sends = db.session.execute(
        select(Message.sent_at, Message.send_attempted_at)
        .where(Message.sent_at >= now - RECENT, Message.direction == Direction.outbound)
        .order_by(Message.sent_at.desc())
        .limit(SAMPLE_LIMIT)
    ).all()
    failures = Counter(
        dict(
            db.session.execute(
                select(Message.error_code, func.count())
                .where(
                    Message.sent_at >= now - FAILURE_WINDOW,
                    Message.direction == Direction.outbound,
                    Message.status == MessageStatus.failed,
                )
                .group_by(Message.error_code)
            ).all()
        )
    )
    return Figures(
        queues=_queue_figures(now),
        webhook_pending=counts.get(WebhookStatus.pending, 0),
        webhook_failed=counts.get(WebhookStatus.failed, 0),
        webhook_oldest_pending_age=(now - oldest_pending).total_seconds() if oldest_pending else None,
        inbound_lag=_mean_seconds(processed),
        send_latency=_mean_seconds(sends),
        send_failures={("none" if code is None else str(code)): n for code, n in failures.items()},
        open_streams=_open_streams(queues.redis_connection(), now),
    )
