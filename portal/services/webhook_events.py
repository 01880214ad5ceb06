"""Incoming webhooks, stored first and processed by the worker (docs/architecture.md, "Durability",
rules 1, 3 and 6).

A request is answered only after `store` has committed its webhook_events row; the job
portal.jobs.webhooks.process_webhook_event then hands the row to the processor registered for
its provider (in create_app: "whatsapp" by its channel adapter, "crm" by portal.subscribers). A
processor changes the session and raises on failure; the job commits once, or rolls back and
records the failure in a transaction of its own.

Statuses: pending (stored, not yet processed), processed (done; a note may sit in `error`, such as
a status for an unknown message), failed (`error` says why; RQ retries a transient failure by
`retry_at`, and a retry that succeeds marks it processed; `retry_at` is null when no retry will
come). `sweep` re-enqueues pending rows older than a minute and failed rows whose retry is a
minute overdue, so an event whose job or retry was lost (Redis down or restarted empty, worker
killed) is still processed.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, insert, or_, select
from sqlalchemy.exc import InterfaceError, OperationalError

from portal.config import WEBHOOKS_BIND
from portal.extensions import db
from portal.models import Agent, WebhookEvent, WebhookStatus, utcnow
from portal.queue import WEBHOOKS, backoff, enqueue_after_commit, enqueue_now
from portal.services import audit

log = logging.getLogger(__name__)

PROCESS_JOB = "portal.jobs.webhooks.process_webhook_event"
PROCESS_TRIES = 3
MAX_ERROR_LENGTH = 2000

Processor = Callable[[WebhookEvent], None]
# Filled in create_app: each channel's adapter registers its own, portal.subscribers the others.
PROCESSORS: dict[str, Processor] = {}


NO_PROCESSOR = _l("No processor handles events from %(provider)s.")


class DatabaseUnavailable(Exception):
    """The database stayed unreachable for longer than a webhook may wait: nothing was stored,
    and the sender must deliver the webhook again (Meta does, for days)."""


class UnprocessableEvent(Exception):
    """The event can never be processed as it is (malformed, unknown provider): it fails at once,
    without retries; an admin may replay it after the cause is fixed."""


def register_processor(provider: str, processor: Processor) -> None:
    PROCESSORS[provider] = processor


# Notes and errors are stored on the event in English (one text for every reader and for support)
# and shown in the reader's language: each is made by stored_text() from a translatable message
# registered here, whose English text, placeholders read as groups, finds it again. Notes on one
# event are joined with "; ".
READABLE_MESSAGES: list[Any] = [NO_PROCESSOR]
_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")


def register_readable_errors(*messages: Any) -> None:
    """Register translatable (lazy_gettext) notes and errors a processor stores."""
    READABLE_MESSAGES.extend(m for m in messages if m not in READABLE_MESSAGES)


def stored_text(message: Any, **params: Any) -> str:
    """The English text of a registered note or error, as stored in the `error` column."""
    return _english(message) % params


def readable_error(text: str | None) -> str:
    """An event's error in the current language, note by note, where a note is a registered one."""
    return "; ".join(_readable_note(note) for note in (text or "").split("; ")) if text else ""


def _readable_note(note: str) -> str:
    for message in READABLE_MESSAGES:
        found = _stored_pattern(_english(message)).fullmatch(note)
        if found:
            return str(message) % found.groupdict()
    return note


def _english(message: Any) -> str:
    with force_locale("en"):
        return str(message)


@functools.cache
def _stored_pattern(english: str) -> re.Pattern[str]:
    return re.compile(_PLACEHOLDER.sub(r"(?P<\1>.*?)", re.escape(english)), re.DOTALL)


_INSERT = (
    insert(WebhookEvent.__table__)
    .values(
        provider=bindparam("provider"),
        event_type=bindparam("event_type"),
        payload_json=bindparam("payload_json"),
        received_at=bindparam("received_at"),
        status=WebhookStatus.pending,
        attempts=0,
    )
    .returning(WebhookEvent.__table__.c.id)
)


def store(provider: str, event_type: str, payload: Any) -> int:
    """Commit a pending event in a transaction of its own, enqueue its processing job, and return
    its id. The caller may answer the sender once this returns (durability rule 1).

    One prepared Core INSERT on the webhooks pool (portal.config), not the ORM session: the webhook
    endpoints pay for this on every request, and the unit of work cost more than the statement
    (docs/benchmarks.md 1a).

    A dropped connection is replaced at once. A database that is restarting (connections
    refused) is waited for, with backoff, for up to WEBHOOK_DATABASE_WAIT_SECONDS: a restart then
    delays webhooks instead of failing them. Beyond that, DatabaseUnavailable.
    """
    params = {"provider": provider, "event_type": event_type[:80], "payload_json": payload, "received_at": utcnow()}
    deadline = time.monotonic() + current_app.config["WEBHOOK_DATABASE_WAIT_SECONDS"]
    delay = 0.1
    for attempt in itertools.count():
        try:
            with db.engines[WEBHOOKS_BIND].begin() as connection:
                event_id = connection.execute(_INSERT, params).scalar_one()
            break
        except (OperationalError, InterfaceError) as exc:
            if attempt == 0 and exc.connection_invalidated:
                continue  # a pooled connection the server had closed: the pool opens a new one
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailable(str(exc.orig)) from exc
            log.warning("%s webhook not stored yet, the database is unreachable: %s", provider, type(exc.orig).__name__)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    enqueue_now(PROCESS_JOB, event_id, queue=WEBHOOKS, retry=backoff(PROCESS_TRIES))
    return event_id


def enqueue(event: WebhookEvent, retries: int = PROCESS_TRIES) -> None:
    enqueue_after_commit(db.session, PROCESS_JOB, event.id, queue=WEBHOOKS, retry=backoff(retries))


def process(event_id: int) -> WebhookEvent | None:
    """Run the provider's processor and mark the event processed. An event already processed is
    left alone, so a redelivered or duplicated job changes nothing."""
    # The row lock serializes two workers handed the same event (PostgreSQL; SQLite has one writer).
    event = db.session.get(WebhookEvent, event_id, with_for_update=True)
    if event is None or event.status == WebhookStatus.processed:
        return event
    processor = PROCESSORS.get(event.provider)
    if processor is None:
        raise UnprocessableEvent(stored_text(NO_PROCESSOR, provider=event.provider))
    event.error = None
    event.retry_at = None
    processor(event)
    # Counted after the processor, so the row takes one UPDATE rather than one at the processor's
    # first autoflush and another here; a failed run is rolled back and counted by mark_failed.
    event.attempts += 1
    event.status = WebhookStatus.processed
    event.processed_at = utcnow()
    return event


def claim_pending() -> int | None:
    """The oldest pending event, locked for this transaction; None when there is none. Rows another
    worker holds are skipped (PostgreSQL), so two workers draining at once never take the same one;
    SQLite's single writer serializes them instead."""
    return db.session.scalar(
        select(WebhookEvent.id)
        .where(WebhookEvent.status == WebhookStatus.pending)
        .order_by(WebhookEvent.received_at, WebhookEvent.id)  # ix_webhook_events_status_received
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def mark_failed(event_id: int, error: BaseException, retry_at: datetime | None = None) -> None:
    """Record why processing failed, and when a retry is due (None: none will come). Called after
    the failed unit of work was rolled back; an event another run already processed keeps its status."""
    event = db.session.get(WebhookEvent, event_id, with_for_update=True)
    if event is None or event.status == WebhookStatus.processed:
        return
    event.attempts += 1
    event.status = WebhookStatus.failed
    event.error = describe(error)
    event.retry_at = retry_at


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return clean_error(text if isinstance(error, UnprocessableEvent) else f"{type(error).__name__}: {text}".rstrip(": "))


def clean_error(text: str) -> str:
    """Text fit for the `error` column: bounded, and without NUL (which PostgreSQL refuses)."""
    return text.replace("\x00", "")[:MAX_ERROR_LENGTH]


def replay(event: WebhookEvent, *, by: Agent | None, enqueue_job: bool = True) -> None:
    """Process the event again. Processing is idempotent, so replaying a processed event adds
    nothing that is already there."""
    event.status = WebhookStatus.pending
    event.error = None
    event.retry_at = None
    event.processed_at = None
    audit.record("webhook_event.replayed", actor=by, target=event, provider=event.provider)
    if enqueue_job:
        enqueue(event)


def sweep(older_than_seconds: int = 60) -> int:
    """Re-enqueue pending events received more than `older_than_seconds` ago, and failed events
    whose retry is that much overdue (it was lost) with the tries they have left; returns how
    many. A failed event with no tries left keeps its status, and no retry is expected any more."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    stale = db.session.scalars(
        select(WebhookEvent)
        .where(
            or_(
                and_(WebhookEvent.status == WebhookStatus.pending, WebhookEvent.received_at <= cutoff),
                and_(WebhookEvent.status == WebhookStatus.failed, WebhookEvent.retry_at <= cutoff),
            )
        )
        .order_by(WebhookEvent.id)
    ).all()
    enqueued = 0
    for event in stale:
        if event.status == WebhookStatus.pending:
            enqueue(event)
        elif event.attempts > PROCESS_TRIES:
            event.retry_at = None
            continue
        else:
            event.retry_at = now  # the job enqueued here is the retry now due
            enqueue(event, retries=PROCESS_TRIES - event.attempts)
        enqueued += 1
    return enqueued
