"""At most one send attempt is in flight per message, whatever starts it (issue 14, item 2): an
agent's "Send again" and an admin's requeue of the same dead letter, taken by two real workers
while the Graph API is slow but answers, send the reply once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import timedelta

import pytest
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from portal.models import Direction, Message, MessageStatus, Role, utcnow
from portal.queue import OUTBOUND, enqueue_now, redis_connection
from portal.services import dead_letters, outbound
from tests import factories
from tests.worker_processes import start_worker, stop_with_children, wait_until


@pytest.fixture
def dead_letter(db, graph_simulator, run_jobs) -> tuple[Message, str]:
    """A reply whose retries ran out: `failed`, its job in the failed registry."""
    conversation = factories.conversation()
    agent = factories.agent()
    db.session.commit()
    graph_simulator.fail(503, times=outbound.SEND_RETRIES + 1, endpoint="messages")
    message = outbound.queue_reply(conversation, "Seu pedido saiu para entrega", by=agent)
    db.session.commit()
    run_jobs(OUTBOUND)
    db.session.refresh(message)
    assert message.status == MessageStatus.failed
    [job_id] = FailedJobRegistry(queue=Queue(OUTBOUND, connection=redis_connection())).get_job_ids()
    graph_simulator.reset()
    return message, job_id


@pytest.fixture
def outbound_workers(app, db, database_url, redis_url, graph_simulator, tmp_path) -> Iterator[int]:
    """Two `python worker.py outbound` processes, idle and waiting for jobs, sending to the simulator."""
    log = tmp_path / "workers.log"
    env = {"WHATSAPP_API_BASE": graph_simulator.url}
    workers = [start_worker(database_url, redis_url, log, OUTBOUND, env=env) for _ in range(2)]
    try:
        wait_until(
            lambda: [w.get_state() for w in Worker.all(connection=redis_connection())] == ["idle", "idle"],
            60,
            "two idle workers",
        )
        yield len(workers)
    finally:
        for worker in workers:
            stop_with_children(worker, signal.SIGTERM)


def _all_jobs_done() -> bool:
    queue = Queue(OUTBOUND, connection=redis_connection())
    return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0


def test_send_again_and_a_dead_letter_requeue_on_a_slow_api_send_once(
    db, graph_simulator, dead_letter, outbound_workers
):
    message, dead_letter_job = dead_letter
    graph_simulator.slow_down(2)

    outbound.requeue(message, by=message.sender)  # the agent's "Send again" on the bubble
    db.session.commit()
    admin = factories.agent(role=Role.admin)
    assert dead_letters.requeue([dead_letter_job], by=admin) == 1  # the admin's requeue, a moment later
    db.session.commit()

    wait_until(lambda: len(graph_simulator.sends()) >= 1 and _all_jobs_done(), 60, "both jobs to finish")
    db.session.expire_all()
    assert db.session.get(Message, message.id).status == MessageStatus.sent
    assert len(graph_simulator.sends()) == 1


def _claimed_reply(db, claimed_until) -> Message:
    """A queued reply one attempt already claimed, until `claimed_until`."""
    message = factories.message(
        factories.conversation(),
        Direction.outbound,
        status=MessageStatus.queued,
        external_id=None,
        send_attempts=1,
        send_attempted_at=utcnow() - timedelta(seconds=30),
        send_claimed_until=claimed_until,
    )
    db.session.commit()
    return message


def test_a_job_leaves_a_message_alone_while_another_attempt_holds_it(db, graph_simulator, run_jobs):
    message = _claimed_reply(db, utcnow() + timedelta(minutes=1))
    enqueue_now(outbound.SEND_JOB, message.id, queue=OUTBOUND)
    run_jobs(OUTBOUND)
    db.session.refresh(message)
    assert graph_simulator.sends() == []
    assert (message.status, message.send_attempts) == (MessageStatus.queued, 1)


def test_the_claim_of_a_worker_that_died_mid_attempt_expires(db, graph_simulator, run_jobs):
    message = _claimed_reply(db, utcnow() - timedelta(seconds=1))
    enqueue_now(outbound.SEND_JOB, message.id, queue=OUTBOUND)
    run_jobs(OUTBOUND)
    db.session.refresh(message)
    assert len(graph_simulator.sends()) == 1
    assert (message.status, message.send_attempts, message.send_claimed_until) == (MessageStatus.sent, 2, None)
