"""The dead-letter queue: RQ's FailedJobRegistry per queue, shown to admins, who requeue or
discard jobs. Redis holds the jobs; the audit rows the view commits say who did what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.results import Result

from portal import queue as queues
from portal.extensions import db
from portal.models import Agent, CrmDelivery, Message, WebhookEvent
from portal.pii import mask_text
from portal.services import audit

# docs/architecture.md, "Queues and jobs": the row each queue's jobs take as their first argument.
ROW_FOR_QUEUE = {
    queues.WEBHOOKS: WebhookEvent,
    queues.OUTBOUND: Message,
    queues.CRM: CrmDelivery,
}
LISTED_PER_QUEUE = 200


@dataclass(frozen=True)
class QueueCounts:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    state: str
    queues: list[str]
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    function: str
    arguments: str
    row: WebhookEvent | Message | CrmDelivery | None
    row_id: int | None
    exception: str
    failed_at: datetime | None
    tries: int


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _registry(name: str) -> FailedJobRegistry:
    return FailedJobRegistry(queue=queues.get_queue(name))


def queue_counts() -> list[QueueCounts]:
    counts = []
    for name in queues.ALL_QUEUES:
        queue = queues.get_queue(name)
        counts.append(
            QueueCounts(
                name=name,
                queued=queue.count,
                started=StartedJobRegistry(queue=queue).count,
                scheduled=ScheduledJobRegistry(queue=queue).count,
                failed=FailedJobRegistry(queue=queue).count,
            )
        )
    return counts


def workers() -> list[WorkerInfo]:
    found = Worker.all(connection=queues.redis_connection())
    return sorted(
        (
            WorkerInfo(w.name, str(w.get_state()), w.queue_names(), _naive_utc(w.last_heartbeat))
            for w in found
        ),
        key=lambda w: w.name,
    )


def exception_summary(exc_string: str | None) -> str:
    """The exception's last line (its type and message), masked: messages often quote a phone."""
    lines = [line.strip() for line in (exc_string or "").splitlines() if line.strip()]
    return mask_text(lines[-1])[:300] if lines else ""


def _tries(job: Job, failures: list[Result]) -> int:
    # RQ records a result only when a job finally fails (and again after each requeue that fails);
    # automatic retries only count down retries_left. Our jobs get one interval per retry
    # (queue.backoff), so the retries used are the intervals minus what is left.
    retries_used = len(job.retry_intervals or []) - (job.retries_left or 0) if job.retry_intervals else 0
    return max(len(failures), 1) + max(retries_used, 0)


def _describe(job: Job, queue_name: str) -> FailedJob:
    failures = [r for r in job.results() if r.type == Result.Type.FAILED]
    latest = failures[0] if failures else None
    args = ", ".join([repr(a) for a in job.args] + [f"{k}={v!r}" for k, v in job.kwargs.items()])
    model = ROW_FOR_QUEUE.get(queue_name)
    row_id = job.args[0] if model is not None and job.args and isinstance(job.args[0], int) else None
    return FailedJob(
        id=job.id,
        queue=queue_name,
        function=job.func_name or "",
        arguments=mask_text(args),
        row=db.session.get(model, row_id) if row_id is not None else None,
        row_id=row_id,
        exception=exception_summary(latest.exc_string if latest else None),
        failed_at=_naive_utc(latest.created_at if latest else job.ended_at),
        tries=_tries(job, failures),
    )


def failed_jobs(queue_name: str | None = None) -> list[FailedJob]:
    """Failed jobs, most recent first (at most LISTED_PER_QUEUE per queue)."""
    listed = []
    for name in (queue_name,) if queue_name else queues.ALL_QUEUES:
        registry = _registry(name)
        ids = registry.get_job_ids(0, LISTED_PER_QUEUE - 1, desc=True)
        jobs = Job.fetch_many(ids, connection=registry.connection)
        listed += [_describe(job, name) for job in jobs if job is not None]
    return sorted(listed, key=lambda j: j.failed_at or datetime.min, reverse=True)


def _find(job_id: str) -> tuple[FailedJobRegistry, Job] | None:
    for name in queues.ALL_QUEUES:
        registry = _registry(name)
        if job_id in registry:
            try:
                return registry, Job.fetch(job_id, connection=registry.connection)
            except NoSuchJobError:
                registry.remove(job_id)
                return None
    return None


def _each_failed(
    job_ids: list[str], action: str, operate: Callable[[FailedJobRegistry, Job], bool], *, by: Agent
) -> int:
    """Run `operate` on each job still in a failed registry and audit it as `action`; returns how
    many it was done to (`operate` answers False when another admin got there first)."""
    done = 0
    for job_id in job_ids:
        found = _find(job_id)
        if found is None or not operate(*found):
            continue
        _, job = found
        audit.record(action, actor=by, target=("rq_job", job.id), function=job.func_name, queue=job.origin)
        done += 1
    return done


def _requeue_one(registry: FailedJobRegistry, job: Job) -> bool:
    try:
        registry.requeue(job)
    except InvalidJobOperation:  # another admin requeued it a moment ago
        return False
    return True


def _discard_one(registry: FailedJobRegistry, job: Job) -> bool:
    registry.remove(job, delete_job=True)
    return True


def requeue(job_ids: list[str], *, by: Agent) -> int:
    """Put failed jobs back on their queues; returns how many went back."""
    return _each_failed(job_ids, "dead_letter.requeued", _requeue_one, by=by)


def requeue_all(*, by: Agent) -> int:
    return requeue(all_failed_job_ids(), by=by)


def all_failed_job_ids() -> list[str]:
    return [job_id for name in queues.ALL_QUEUES for job_id in _registry(name).get_job_ids()]


def discard(job_ids: list[str], *, by: Agent) -> int:
    """Delete failed jobs for good; the rows they named stay as they are."""
    return _each_failed(job_ids, "dead_letter.discarded", _discard_one, by=by)
