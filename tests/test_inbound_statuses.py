"""Status webhooks move outbound messages forward only, keep failure reasons, and note statuses
for messages we do not know without failing the event."""

import pytest
from sqlalchemy import select

from portal.models import Direction, Message, MessageStatus, WebhookEvent, WebhookStatus
from portal.services import events
from tests import factories

WAMID = "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND01"


@pytest.fixture
def outbound_message(db):
    def create(status: MessageStatus = MessageStatus.sent) -> Message:
        message = factories.message(
            factories.conversation(), Direction.outbound, external_id=WAMID, status=status
        )
        db.session.commit()
        return message

    return create


@pytest.fixture
def deliver_statuses(db, post_whatsapp, whatsapp_payload, run_jobs):
    """Post status webhooks in order (by fixture name or as payloads), run the worker, return the events."""

    def deliver(*names_or_payloads):
        for item in names_or_payloads:
            payload = whatsapp_payload(item) if isinstance(item, str) else item
            assert post_whatsapp(payload).status_code == 200
            run_jobs("webhooks")
        db.session.expire_all()
        return db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()

    return deliver


def _status(db, message) -> MessageStatus:
    db.session.refresh(message)
    return message.status


def _with_status(whatsapp_payload, status: str):
    payload = whatsapp_payload("status_read")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = status
    return payload


def test_sent_delivered_read_move_the_message_forward(db, outbound_message, deliver_statuses):
    message = outbound_message(MessageStatus.queued)
    deliver_statuses("status_sent")
    assert _status(db, message) == MessageStatus.sent
    deliver_statuses("status_delivered")
    assert _status(db, message) == MessageStatus.delivered
    deliver_statuses("status_read")
    assert _status(db, message) == MessageStatus.read


def test_late_statuses_never_move_a_message_backwards(db, outbound_message, deliver_statuses):
    message = outbound_message()
    events_ = deliver_statuses("status_read", "status_delivered", "status_sent")
    assert _status(db, message) == MessageStatus.read
    assert all(e.status == WebhookStatus.processed for e in events_)


def test_a_read_may_arrive_without_a_delivered(db, outbound_message, deliver_statuses):
    message = outbound_message()
    deliver_statuses("status_read")
    assert _status(db, message) == MessageStatus.read


def test_a_played_voice_note_counts_as_read(db, outbound_message, deliver_statuses, whatsapp_payload):
    message = outbound_message()
    deliver_statuses(_with_status(whatsapp_payload, "played"))
    assert _status(db, message) == MessageStatus.read


def test_a_failed_status_keeps_the_code_and_title(db, outbound_message, deliver_statuses):
    message = outbound_message()
    deliver_statuses("status_failed_131047")
    assert _status(db, message) == MessageStatus.failed
    assert (message.error_code, message.error_title) == (131047, "Re-engagement message")


def test_failed_is_final_and_never_overrides_a_delivered_message(db, outbound_message, deliver_statuses):
    failed = outbound_message()
    deliver_statuses("status_failed_131047", "status_delivered", "status_read")
    assert _status(db, failed) == MessageStatus.failed

    db.session.delete(failed)
    db.session.commit()
    delivered = outbound_message(MessageStatus.delivered)
    deliver_statuses("status_failed_131047")
    assert _status(db, delivered) == MessageStatus.delivered
    assert delivered.error_code is None


def test_a_status_for_an_unknown_message_is_noted_and_the_event_processed(db, deliver_statuses):
    [event] = deliver_statuses("status_delivered")
    assert event.status == WebhookStatus.processed
    assert event.error == (
        f"A status update for message {WAMID}, which Atende did not send or has not yet recorded as sent, was not applied."
    )


def test_each_change_emits_status_changed_with_the_old_status(db, outbound_message, deliver_statuses):
    outbound_message()
    seen = []

    def record(name, message, old):
        seen.append((old, message.status))

    events.subscribe("message.status_changed")(record)
    try:
        deliver_statuses("status_delivered", "status_sent", "status_read")
    finally:
        events._handlers["message.status_changed"].remove(record)
    assert seen == [(MessageStatus.sent, MessageStatus.delivered), (MessageStatus.delivered, MessageStatus.read)]


def test_several_statuses_in_one_post_apply_in_order(db, outbound_message, deliver_statuses, whatsapp_payload):
    message = outbound_message()
    payload = whatsapp_payload("status_sent")
    statuses = payload["entry"][0]["changes"][0]["value"]["statuses"]
    for name in ("status_delivered", "status_read"):
        statuses.append(whatsapp_payload(name)["entry"][0]["changes"][0]["value"]["statuses"][0])
    deliver_statuses(payload)
    assert _status(db, message) == MessageStatus.read


def test_a_status_without_the_conversation_object_is_applied(db, outbound_message, deliver_statuses, whatsapp_payload):
    message = outbound_message()
    payload = whatsapp_payload("status_delivered")
    del payload["entry"][0]["changes"][0]["value"]["statuses"][0]["conversation"]
    deliver_statuses(payload)
    assert _status(db, message) == MessageStatus.delivered
