"""Queue "webhooks": processing stored webhook events (docs/architecture.md, "Queues and jobs")."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.extensions import db
from portal.models import WebhookEvent, WebhookStatus, utcnow
from portal.services import webhook_events

log = logging.getLogger(__name__)

# Pending events one job processes after its own. RQ's bookkeeping costs about as much CPU as a
# third of an event, so under a burst a job takes on the events queued behind it; their own jobs
# then find them processed and do nothing. Bounded, so one job never runs for long.
DRAIN_LIMIT = 20
# Immediate re-runs of a unit of work that broke a unique index another worker had just filled,
# or that PostgreSQL ended to break a deadlock.
CONFLICT_RETRIES = 2


def process_webhook_event(event_id: int) -> None:
    """Process the event, then up to DRAIN_LIMIT other pending events, oldest first, each in one
    transaction of its own. A failure of the job's own event goes back to RQ, which retries with
    backoff; a drained event that fails is only marked failed, and its own job retries it."""
    process_one(event_id)
    for _ in range(DRAIN_LIMIT):
        pending_id = webhook_events.claim_pending()
        if pending_id is None:
            db.session.commit()
            return
        try:
            process_one(pending_id, drained=True)
        except Exception as exc:
            log.warning(
                "webhook event %s, drained by the job of %s, failed: %s",
                pending_id,
                event_id,
                type(exc).__name__,
            )


def process_one(event_id: int, *, drained: bool = False) -> None:
    """Process one event in one transaction. On failure the rollback leaves nothing half done, the
    failure is recorded in a transaction of its own, and the exception is raised; an event that can
    never be processed fails at once instead. A drained event that fails gets a job of its own, as
    the one it was queued with may be lost (the sweep re-enqueues pending events, not failed ones)."""
    try:
        _process_and_commit(event_id)
    except Exception as exc:
        db.session.rollback()
        webhook_events.mark_failed(event_id, exc, retry_at=_retry_due(exc, drained))
        event = db.session.get(WebhookEvent, event_id)
        if (
            drained
            and event is not None
            and event.status == WebhookStatus.failed
            and not isinstance(exc, webhook_events.UnprocessableEvent)
        ):
            webhook_events.enqueue(event)
        db.session.commit()
        if isinstance(exc, webhook_events.UnprocessableEvent):
            log.warning("webhook event %s cannot be processed: %s", event_id, exc)
            return
        raise


def _process_and_commit(event_id: int) -> None:
    """Process and commit; a unit of work that ran into a row another worker had just committed
    is processed again at once (docs/architecture.md, "Queues and jobs"). Two messages of a new
    customer taken by two workers at the same moment both create the contact (or the
    conversation, or a new tag): the second INSERT waits for the first transaction, then breaks its
    unique index. Run again, the unit of work finds the other worker's row, instead of leaving the
    event failed until RQ's retry. A deadlock victim is run again too."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            webhook_events.process(event_id)
            db.session.commit()
            return
        except (IntegrityError, OperationalError) as exc:
            if attempt == CONFLICT_RETRIES or not _conflict(exc):
                raise
            db.session.rollback()
            log.info("webhook event %s met another worker's transaction (%s): processing it again", event_id,
                     type(exc.orig).__name__)


def _conflict(error: IntegrityError | OperationalError) -> bool:
    """A unique index another transaction filled, or PostgreSQL chose this transaction as a
    deadlock's or a serialization failure's victim: running it again may succeed."""
    return isinstance(error, IntegrityError) or getattr(error.orig, "sqlstate", None) in {"40P01", "40001"}


def _retry_due(error: Exception, drained: bool) -> datetime | None:
    """When the failed event will be tried again: now for a drained event (it gets a job of its
    own), after the job's next backoff interval when RQ retries it, else never."""
    if isinstance(error, webhook_events.UnprocessableEvent):
        return None
    if drained:
        return utcnow()
    job = get_current_job()
    if job is None or not job.retries_left:
        return None
    return utcnow() + timedelta(seconds=job.get_retry_interval())
