"""Queue "default", scheduled: the sweeper that finishes what a lost job left
(docs/architecture.md, "Durability", rules 1 and 6). Rows are the source of truth, so whatever is
still pending, failed with a retry long overdue, or queued with no attempt for a minute is sent to
its queue again; the jobs are idempotent, so a job that was only slow runs harmlessly twice. Tries
are counted on the rows, so a lost job is made up for but never adds tries."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Direction, Message, MessageStatus, utcnow
from portal.queue import OUTBOUND, waiting_rows
from portal.services import outbound, webhook_events

log = logging.getLogger(__name__)

STALE_AFTER_SECONDS = 60


def sweep_pending(older_than_seconds: int = STALE_AFTER_SECONDS) -> dict[str, int]:
    """Re-enqueue the webhook events and outbound messages whose job was lost; fail the messages
    that had no tries left."""
    sent_again, failed = _sweep_stuck_messages(older_than_seconds)
    counts = {
        "webhook_events": webhook_events.sweep(older_than_seconds),
        "messages": sent_again,
        "messages_failed": failed,
    }
    db.session.commit()
    if any(counts.values()):
        log.info(
            "sweeper re-enqueued %s webhook events and %s messages, failed %s messages out of tries",
            counts["webhook_events"],
            counts["messages"],
            counts["messages_failed"],
        )
    return counts


def _sweep_stuck_messages(older_than_seconds: int) -> tuple[int, int]:
    """Queued messages nothing is sending: no attempt holds them, none started within the cutoff
    (a live job retries within a minute: outbound.SEND_RETRIES backs off up to about 40 s), and no
    send job for them waits in the queue or for its retry. Their job was lost (Redis restarted
    empty, a worker died mid-attempt). A job that was only slow and now runs twice is harmless: the
    send claim lets one attempt through."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    stuck = db.session.scalars(
        select(Message).where(
            Message.direction == Direction.outbound,
            Message.status == MessageStatus.queued,
            Message.external_id.is_(None),
            outbound.unclaimed(now),
            func.coalesce(Message.send_attempted_at, Message.sent_at) <= cutoff,
        )
    ).all()
    if stuck:
        waiting = waiting_rows(OUTBOUND, outbound.SEND_JOB)
        stuck = [message for message in stuck if message.id not in waiting]
    sent_again = sum(outbound.resume(message) for message in stuck)
    return sent_again, len(stuck) - sent_again
