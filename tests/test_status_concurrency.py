"""Statuses only move forward under any interleaving: two workers, each with its own database
connection, process the `delivered` and the `read` webhook of the same message at the same moment,
for a few hundred messages; every message ends `read` (issue 14, item 1)."""

import threading

from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.jobs.webhooks import process_one
from portal.models import Direction, Message, MessageStatus, WebhookEvent, WebhookStatus
from tests import factories

MESSAGES = 300


def _status_event(whatsapp_payload, wamid: str, status: str) -> WebhookEvent:
    payload = whatsapp_payload("status_read")
    entry = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    entry["id"], entry["status"] = wamid, status
    event = WebhookEvent(provider="whatsapp", event_type="statuses", payload_json=payload)
    _db.session.add(event)
    return event


def test_delivered_and_read_processed_at_once_by_two_workers_never_end_delivered(app, db, whatsapp_payload):
    conversation = factories.conversation()
    delivered, read = [], []
    for n in range(MESSAGES):
        wamid = f"wamid.race{n}"
        factories.message(conversation, Direction.outbound, external_id=wamid, status=MessageStatus.sent)
        delivered.append(_status_event(whatsapp_payload, wamid, "delivered"))
        read.append(_status_event(whatsapp_payload, wamid, "read"))
    db.session.commit()
    delivered_ids, read_ids = [e.id for e in delivered], [e.id for e in read]
    db.session.remove()

    together = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(event_ids: list[int]) -> None:
        with app.app_context():
            try:
                for event_id in event_ids:
                    together.wait(timeout=30)
                    process_one(event_id)
            except BaseException as exc:  # reported below; the other worker must not wait forever
                errors.append(exc)
                together.abort()
            finally:
                _db.session.remove()

    workers = [threading.Thread(target=worker, args=(ids,)) for ids in (delivered_ids, read_ids)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=300)
    assert not errors, errors

    unprocessed = db.session.scalar(
        select(func.count()).select_from(WebhookEvent).where(WebhookEvent.status != WebhookStatus.processed)
    )
    statuses = dict(
        db.session.execute(select(Message.status, func.count()).group_by(Message.status)).tuples().all()
    )
    assert unprocessed == 0
    assert statuses == {MessageStatus.read: MESSAGES}
