"""Failures while processing: the event is marked failed with the reason, RQ retries with backoff,
exhausted jobs stay in the failed registry, and `reprocess` / `sweep` finish the work."""

from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from portal.jobs.schedule import SCHEDULE
from portal.models import AuditLog, Direction, Message, MessageStatus, WebhookEvent, WebhookStatus, utcnow
from portal.queue import OUTBOUND, WEBHOOKS, redis_connection
from portal.services import events, webhook_events
from tests import factories


@pytest.fixture
def failing_processing():
    """Make processing raise on message.created for the first `times` runs (None: always)."""
    handlers = []

    def install(times: int | None = None):
        calls = {"n": 0}

        def explode(name, message):
            calls["n"] += 1
            if times is None or calls["n"] <= times:
                raise RuntimeError("CRM subscriber exploded")

        handlers.append(explode)
        events.subscribe("message.created")(explode)
        return calls

    yield install
    for handler in handlers:
        events._handlers["message.created"].remove(handler)


def _event(db) -> WebhookEvent:
    db.session.expire_all()
    return db.session.scalar(select(WebhookEvent))


def _messages(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def _failed_jobs() -> list[str]:
    return FailedJobRegistry(queue=Queue(WEBHOOKS, connection=redis_connection())).get_job_ids()


def test_a_failing_event_is_retried_then_left_failed_with_its_reason(
    db, post_whatsapp, whatsapp_payload, run_jobs, failing_processing
):
    calls = failing_processing()
    post_whatsapp(whatsapp_payload("text"))
    run_jobs("webhooks")
    event = _event(db)
    assert calls["n"] == 4  # the first run and three retries
    assert event.status == WebhookStatus.failed
    assert event.error == "RuntimeError: CRM subscriber exploded"
    assert event.attempts == 4
    assert _messages(db) == 0  # each failed run rolled back whole
    assert len(_failed_jobs()) == 1


def test_a_retry_that_succeeds_marks_the_event_processed(db, post_whatsapp, whatsapp_payload, run_jobs, failing_processing):
    failing_processing(times=2)
    post_whatsapp(whatsapp_payload("text"))
    run_jobs("webhooks")
    event = _event(db)
    assert event.status == WebhookStatus.processed and event.error is None
    assert event.attempts == 3
    assert _messages(db) == 1
    assert _failed_jobs() == []


def test_a_payload_that_can_never_be_processed_fails_at_once(db, post_whatsapp, run_jobs):
    post_whatsapp({"object": "whatsapp_business_account", "entry": "nothing here"})
    run_jobs("webhooks")
    event = _event(db)
    assert event.status == WebhookStatus.failed
    assert event.error == "The notification has no entry list."
    assert event.attempts == 1
    assert _failed_jobs() == []


def test_reprocess_replays_a_failed_event(db, runner, post_whatsapp, whatsapp_payload, run_jobs, failing_processing):
    failing_processing(times=4)
    post_whatsapp(whatsapp_payload("text"))
    run_jobs("webhooks")
    event = _event(db)
    assert event.status == WebhookStatus.failed
    result = runner.invoke(args=["reprocess", str(event.id)])
    assert result.exit_code == 0, result.output
    assert f"Webhook event {event.id}: Processed" in result.output
    assert _event(db).status == WebhookStatus.processed
    assert _messages(db) == 1
    assert db.session.scalar(select(AuditLog.action)) == "webhook_event.replayed"


def test_reprocess_of_a_processed_event_adds_nothing(db, runner, post_whatsapp, whatsapp_payload, run_jobs):
    post_whatsapp(whatsapp_payload("text"))
    run_jobs("webhooks")
    event_id = _event(db).id
    for _ in range(2):
        assert runner.invoke(args=["reprocess", str(event_id)]).exit_code == 0
    assert _messages(db) == 1
    assert _event(db).status == WebhookStatus.processed


def test_reprocess_of_an_unknown_event_says_so(db, runner):
    result = runner.invoke(args=["reprocess", "4242"])
    assert result.exit_code != 0
    assert "There is no webhook event 4242." in result.output


def test_replay_enqueues_the_event_again_for_the_worker(db, post_whatsapp, whatsapp_payload, run_jobs):
    post_whatsapp(whatsapp_payload("text"))
    run_jobs("webhooks")
    admin = factories.agent()
    event = _event(db)
    webhook_events.replay(event, by=admin)
    db.session.commit()
    assert _event(db).status == WebhookStatus.pending
    run_jobs("webhooks")
    assert _event(db).status == WebhookStatus.processed
    assert _messages(db) == 1
    assert db.session.scalar(select(AuditLog.actor_id)) == admin.id


def test_sweep_enqueues_pending_events_older_than_a_minute(db, runner, post_whatsapp, whatsapp_payload, run_jobs):
    queue = Queue(WEBHOOKS, connection=redis_connection())
    post_whatsapp(whatsapp_payload("text"))
    post_whatsapp(whatsapp_payload("image"))
    queue.empty()  # as if Redis had been down when they arrived
    old, fresh = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    old.received_at -= timedelta(seconds=61)
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "Re-enqueued 1 webhook event and" in result.output
    assert [job.args for job in queue.jobs] == [(old.id,)]
    run_jobs("webhooks")
    db.session.expire_all()
    # The swept event's job also drains the other pending one (portal.jobs.webhooks.DRAIN_LIMIT).
    assert (old.status, fresh.status) == (WebhookStatus.processed, WebhookStatus.processed)


def test_sweep_enqueues_outbound_messages_nothing_is_sending(db, runner):
    conversation = factories.conversation()
    stale = factories.message(conversation, Direction.outbound, status=MessageStatus.queued, external_id=None)
    stale.sent_at -= timedelta(minutes=5)
    attempted = factories.message(conversation, Direction.outbound, status=MessageStatus.queued, external_id=None)
    attempted.sent_at -= timedelta(minutes=5)
    attempted.send_attempts = 1
    attempted.send_attempted_at = utcnow()  # its job's retry is still to come
    factories.message(conversation, Direction.outbound, status=MessageStatus.queued, external_id=None)  # fresh
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert "and 1 message." in result.output
    [job] = Queue(OUTBOUND, connection=redis_connection()).jobs
    assert (job.func_name, job.args) == ("portal.jobs.outbound.send_message", (stale.id,))


def test_the_worker_runs_the_sweeper_every_30_seconds():
    assert any(item.func == "portal.jobs.maintenance.sweep_pending" and item.every_seconds == 30 for item in SCHEDULE)
