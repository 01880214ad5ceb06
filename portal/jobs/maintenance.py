"""Queue "default", scheduled: the sweeper that finishes what a lost job left
(docs/architecture.md, "Durability", rules 1 and 6). Rows are the source of truth, so whatever is
still pending after a minute is sent to its queue again; the jobs are idempotent, so a job that
was only slow runs harmlessly twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Direction, Message, MessageStatus, utcnow
from portal.services import outbound, webhook_events

log = logging.getLogger(__name__)

STALE_AFTER_SECONDS = 60


def sweep_pending(older_than_seconds: int = STALE_AFTER_SECONDS) -> dict[str, int]:
    """Re-enqueue pending webhook events and never-attempted outbound sends older than the cutoff."""
    counts = {
        "webhook_events": webhook_events.sweep(older_than_seconds),
        "messages": _sweep_unsent_messages(older_than_seconds),
    }
    db.session.commit()
    if any(counts.values()):
        log.info("sweeper re-enqueued %s webhook events and %s messages", counts["webhook_events"], counts["messages"])
    return counts


def _sweep_unsent_messages(older_than_seconds: int) -> int:
    # Only sends never attempted: one that was attempted may have reached WhatsApp, and its job's
    # retries (or an agent's retry) decide what happens next, never a blind resend.
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stale = db.session.scalars(
        select(Message).where(
            Message.direction == Direction.outbound,
            Message.status == MessageStatus.queued,
            Message.send_attempts == 0,
            Message.sent_at <= cutoff,
        )
    ).all()
    for message in stale:
        outbound.enqueue_send(message)
    return len(stale)
