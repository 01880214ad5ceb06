"""The sweep finds what a lost job left behind (issue 14, item 3): Redis restarts empty while a
reply or a webhook event waits for its retry, and the sweep picks it up within a bounded time. The
reply ends sent once, or failed with a reason when its tries are used up; never `queued` for good."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from portal.jobs.maintenance import sweep_pending
from portal.models import Direction, Message, MessageStatus, WebhookEvent, WebhookStatus, utcnow
from portal.queue import OUTBOUND, WEBHOOKS, redis_connection
from portal.services import outbound, webhook_events
from tests import factories
from tests.worker_processes import PrivateRedis, private_redis_server, wait_until


@pytest.fixture
def private_redis(app, monkeypatch) -> Iterator[PrivateRedis]:
    """The app's Redis, for this test, is a redis-server the test may restart empty."""
    with private_redis_server() as server:
        monkeypatch.setitem(app.extensions, "atende.redis", server.connection())
        yield server


@pytest.fixture
def slow_retries(app, monkeypatch):
    """Retries wait a few seconds (the suite's are immediate), so a restart can land mid-backoff."""
    monkeypatch.setitem(app.config, "RETRY_BASE_SECONDS", 2)


def _restart_empty(server: PrivateRedis) -> None:
    server.stop()
    server.start()


def test_a_reply_waiting_for_its_retry_when_redis_restarts_empty_is_sent_by_the_sweep(
    db, private_redis, slow_retries, graph_simulator, run_jobs
):
    conversation = factories.conversation()
    agent = factories.agent()
    db.session.commit()
    graph_simulator.fail(503, times=1, endpoint="messages")
    message = outbound.queue_reply(conversation, "Seu pedido saiu para entrega", by=agent)
    db.session.commit()
    run_jobs(OUTBOUND)
    assert ScheduledJobRegistry(queue=Queue(OUTBOUND, connection=private_redis.connection())).count == 1

    _restart_empty(private_redis)
    sweep_pending(older_than_seconds=0)
    run_jobs(OUTBOUND)

    db.session.refresh(message)
    assert (message.status, message.send_attempts) == (MessageStatus.sent, 2)
    assert len(graph_simulator.sends()) == 2  # the refused attempt and the one accepted send


def test_a_reply_whose_tries_were_used_up_when_its_job_was_lost_fails_with_its_reason(db, runner, graph_simulator):
    message = factories.message(
        factories.conversation(),
        Direction.outbound,
        status=MessageStatus.queued,
        external_id=None,
        send_attempts=outbound.SEND_RETRIES + 1,
        send_attempted_at=utcnow() - timedelta(minutes=5),
        error_code=130429,
        error_title="Rate limit hit",
    )
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert "1 message had no tries left and is now failed." in result.output, result.output
    db.session.refresh(message)
    assert message.status == MessageStatus.failed
    assert outbound.failure(message).reason == "WhatsApp's rate limit was reached."
    assert graph_simulator.sends() == []


def test_the_sweep_leaves_replies_alone_while_an_attempt_or_its_retry_may_still_come(db):
    conversation = factories.conversation()
    now = utcnow()
    queued_long_ago = dict(status=MessageStatus.queued, external_id=None, sent_at=now - timedelta(minutes=5))
    factories.message(conversation, Direction.outbound, **queued_long_ago, send_attempts=1, send_attempted_at=now)
    factories.message(
        conversation,
        Direction.outbound,
        **queued_long_ago,
        send_attempts=1,
        send_attempted_at=now - timedelta(minutes=5),
        send_claimed_until=now + timedelta(seconds=30),  # an attempt in flight
    )
    stuck = factories.message(
        conversation, Direction.outbound, **queued_long_ago, send_attempts=2, send_attempted_at=now - timedelta(minutes=5)
    )
    db.session.commit()
    assert sweep_pending()["messages"] == 1
    [job] = Queue(OUTBOUND, connection=redis_connection()).jobs
    assert job.args == (stuck.id,)
    assert job.retries_left == outbound.SEND_RETRIES - 2  # the tries it has left, not a fresh budget


def test_a_webhook_event_waiting_for_its_retry_when_redis_restarts_empty_is_processed_by_the_sweep(
    db, private_redis, slow_retries, post_whatsapp, whatsapp_payload, run_jobs, monkeypatch
):
    process = webhook_events.PROCESSORS["whatsapp"]
    calls = []

    def fails_the_first_time(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        process(event)

    monkeypatch.setitem(webhook_events.PROCESSORS, "whatsapp", fails_the_first_time)
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200
    run_jobs(WEBHOOKS)
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == WebhookStatus.failed and event.retry_at is not None

    _restart_empty(private_redis)
    wait_until(lambda: utcnow() > event.retry_at, 10, "the lost retry to be due")
    assert sweep_pending(older_than_seconds=0)["webhook_events"] == 1
    run_jobs(WEBHOOKS)

    db.session.refresh(event)
    assert event.status == WebhookStatus.processed and event.retry_at is None
    assert db.session.scalar(select(Message.body)) == "Bom dia! Vocês entregam em Niterói?"


def test_the_sweep_leaves_failed_events_alone_when_no_retry_will_come(db, post_whatsapp, run_jobs):
    assert post_whatsapp({"object": "whatsapp_business_account", "entry": "nothing here"}).status_code == 200
    run_jobs(WEBHOOKS)
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == WebhookStatus.failed and event.retry_at is None  # unprocessable: final
    event.received_at -= timedelta(minutes=5)
    db.session.commit()
    assert sweep_pending(older_than_seconds=0)["webhook_events"] == 0


def test_the_sweep_leaves_replies_alone_while_their_job_waits_in_the_queue_or_for_its_retry(db):
    """A backlog (a slow Graph API, many replies) keeps jobs waiting for minutes: a reply whose
    job is still in the queue, or scheduled for its retry, gets no second job."""
    conversation = factories.conversation()
    long_ago = utcnow() - timedelta(minutes=5)

    def queued_reply(**fields) -> Message:
        return factories.message(
            conversation, Direction.outbound, status=MessageStatus.queued, external_id=None, sent_at=long_ago, **fields
        )

    waiting, retrying, lost = queued_reply(), queued_reply(send_attempts=1, send_attempted_at=long_ago), queued_reply()
    db.session.commit()
    queue = Queue(OUTBOUND, connection=redis_connection())
    queue.enqueue_call(outbound.SEND_JOB, args=(waiting.id,))
    queue.enqueue_in(timedelta(minutes=1), outbound.SEND_JOB, retrying.id)

    assert sweep_pending()["messages"] == 1
    assert [job.args for job in queue.jobs] == [(waiting.id,), (lost.id,)]


def test_a_retry_overdue_in_the_schedule_counts_as_lost_when_no_scheduler_moves_it(db):
    """RQ's scheduler can die in a Redis outage and comes back only with the worker's maintenance,
    minutes later: a retry more than a minute past its time is treated as lost, and the reply gets
    a job now (the send claim keeps a late second job from sending it twice)."""
    long_ago = utcnow() - timedelta(minutes=5)
    reply = factories.message(
        factories.conversation(), Direction.outbound, status=MessageStatus.queued, external_id=None,
        sent_at=long_ago, send_attempts=1, send_attempted_at=long_ago,
    )
    db.session.commit()
    queue = Queue(OUTBOUND, connection=redis_connection())
    queue.enqueue_in(timedelta(minutes=-2), outbound.SEND_JOB, reply.id)

    assert sweep_pending()["messages"] == 1
    assert [job.args for job in queue.jobs] == [(reply.id,)]
