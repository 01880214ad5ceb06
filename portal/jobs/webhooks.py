"""Queue "webhooks": processing stored webhook events (DESIGN: Queues and jobs)."""

from __future__ import annotations

import logging

from portal.extensions import db
from portal.services import (
    inbound,  # noqa: F401  (registers the "whatsapp" processor)
    webhook_events,
)

log = logging.getLogger(__name__)


def process_webhook_event(event_id: int) -> None:
    """Process one event in one transaction. On failure the rollback leaves nothing half done, the
    failure is recorded in a transaction of its own, and the exception goes back to RQ, which
    retries with backoff; an event that can never be processed fails at once instead."""
    try:
        webhook_events.process(event_id)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        webhook_events.mark_failed(event_id, exc)
        db.session.commit()
        if isinstance(exc, webhook_events.UnprocessableEvent):
            log.warning("webhook event %s cannot be processed: %s", event_id, exc)
            return
        raise
