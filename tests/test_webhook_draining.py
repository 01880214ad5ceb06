"""A webhooks job processes its event, then drains pending events queued behind it, each in a
transaction of its own; their own jobs then find them processed and change nothing."""

from rq import Queue
from sqlalchemy import func, select

from portal.jobs.webhooks import DRAIN_LIMIT
from portal.models import Message, WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS, redis_connection
from portal.services import events

UNPROCESSABLE = {"object": "whatsapp_business_account", "entry": "nothing here"}


def _text(whatsapp_payload, n: int, body: str = "Bom dia") -> dict:
    payload = whatsapp_payload("text")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = f"wamid.drain{n}"
    message["text"]["body"] = body
    return payload


def _queue() -> Queue:
    return Queue(WEBHOOKS, connection=redis_connection())


def _keep_only_the_first_job() -> None:
    """As if the jobs of every event but the first had been lost (Redis down when they arrived)."""
    queue = _queue()
    for job in queue.jobs[1:]:
        queue.remove(job)


def _events(db) -> list[WebhookEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def _messages(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def test_one_job_processes_the_pending_events_queued_behind_it(db, post_whatsapp, whatsapp_payload, run_jobs):
    for n in range(3):
        post_whatsapp(_text(whatsapp_payload, n))
    _keep_only_the_first_job()
    run_jobs("webhooks")
    assert [event.status for event in _events(db)] == [WebhookStatus.processed] * 3
    assert _messages(db) == 3


def test_events_drained_by_another_job_are_left_alone_by_their_own(
    db, post_whatsapp, whatsapp_payload, run_jobs
):
    for n in range(3):
        post_whatsapp(_text(whatsapp_payload, n))
    assert len(_queue().jobs) == 3
    run_jobs("webhooks")
    assert [(event.status, event.attempts) for event in _events(db)] == [(WebhookStatus.processed, 1)] * 3
    assert _messages(db) == 3


def test_a_job_drains_at_most_drain_limit_events(db, post_whatsapp, whatsapp_payload, run_jobs):
    for n in range(DRAIN_LIMIT + 2):
        post_whatsapp(_text(whatsapp_payload, n))
    _keep_only_the_first_job()
    run_jobs("webhooks")
    statuses = [event.status for event in _events(db)]
    assert statuses == [WebhookStatus.processed] * (DRAIN_LIMIT + 1) + [WebhookStatus.pending]


def test_a_drained_event_that_can_never_be_processed_fails_alone(
    db, post_whatsapp, whatsapp_payload, run_jobs
):
    post_whatsapp(_text(whatsapp_payload, 1))
    post_whatsapp(UNPROCESSABLE)
    post_whatsapp(_text(whatsapp_payload, 3))
    _keep_only_the_first_job()
    run_jobs("webhooks")
    first, bad, last = _events(db)
    assert (first.status, bad.status, last.status) == (
        WebhookStatus.processed,
        WebhookStatus.failed,
        WebhookStatus.processed,
    )
    assert bad.error
    assert _messages(db) == 2


def test_a_drained_event_failing_for_a_moment_is_retried_by_a_job_of_its_own(
    db, post_whatsapp, whatsapp_payload, run_jobs
):
    failures = {"left": 1}

    def fail_once_on_boom(name, message):
        if message.body == "boom" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database hiccup")

    events.subscribe("message.created")(fail_once_on_boom)
    try:
        post_whatsapp(_text(whatsapp_payload, 1))
        post_whatsapp(_text(whatsapp_payload, 2, body="boom"))
        post_whatsapp(_text(whatsapp_payload, 3))
        _keep_only_the_first_job()
        run_jobs("webhooks")
    finally:
        events._handlers["message.created"].remove(fail_once_on_boom)
    assert [(event.status, event.attempts) for event in _events(db)] == [
        (WebhookStatus.processed, 1),
        (WebhookStatus.processed, 2),
        (WebhookStatus.processed, 1),
    ]
    assert _messages(db) == 3
