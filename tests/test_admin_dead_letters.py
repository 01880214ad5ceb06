"""The dead-letter queue: jobs that really failed in a real worker are listed with the row they
concern, a masked error, when and after how many tries; admins requeue or discard them."""

import pytest
from rq.registry import FailedJobRegistry

from portal.extensions import db as _db
from portal.models import AuditLog, Direction, MessageStatus, Role, WebhookEvent, WebhookStatus
from portal.queue import DEFAULT, OUTBOUND, WEBHOOKS, enqueue_now, get_queue
from portal.services import webhook_events
from portal.worker_process import build_worker
from tests import factories

PHONE = "+5511987654321"


def explode(value) -> None:
    """A job that always fails, quoting its argument as real exceptions often do."""
    raise RuntimeError(f"cannot reach {value}")


class FlakyProvider:
    """A webhook provider whose processing fails until the cause is fixed."""

    def __init__(self):
        self.fixed = False

    def __call__(self, event):
        if not self.fixed:
            raise RuntimeError(f"upstream refused the contact {PHONE}")


@pytest.fixture
def flaky(monkeypatch):
    provider = FlakyProvider()
    monkeypatch.setitem(webhook_events.PROCESSORS, "flaky", provider)
    return provider


def _failed_event(db, run_jobs) -> WebhookEvent:
    event_id = webhook_events.store("flaky", "contact.updated", {"phone": PHONE})
    run_jobs(WEBHOOKS)
    event = db.session.get(WebhookEvent, event_id)
    assert event.status == WebhookStatus.failed
    return event


def _failed_ids(queue: str) -> list[str]:
    return FailedJobRegistry(queue=get_queue(queue)).get_job_ids()


def test_a_failed_job_is_listed_with_its_row_masked_error_and_tries(client, login_as, db, run_jobs, flaky):
    login_as(Role.admin)
    event = _failed_event(db, run_jobs)
    html = client.get("/admin/dead-letters").get_data(as_text=True)
    assert "portal.jobs.webhooks.process_webhook_event" in html
    assert f'href="/admin/webhook-events/{event.id}"' in html
    assert "RuntimeError: upstream refused the contact +*********4321" in html
    assert PHONE not in html
    (job_id,) = _failed_ids(WEBHOOKS)
    row = html[html.index(f'id="job-{job_id}"') :]
    assert f"<td>{event.attempts}</td>" in row[: row.index("</tr>")]
    counts = html[html.index('id="queue-webhooks"') :]
    assert "<td>0</td><td>0</td><td>0</td><td>1</td>" in counts[: counts.index("</tr>")]


def test_job_arguments_are_shown_masked(client, login_as, db, run_jobs):
    login_as(Role.admin)
    assert enqueue_now("tests.test_admin_dead_letters.explode", PHONE, queue=DEFAULT)
    run_jobs(DEFAULT)
    html = client.get("/admin/dead-letters").get_data(as_text=True)
    assert "tests.test_admin_dead_letters.explode" in html
    assert "+*********4321" in html and PHONE not in html


def test_requeue_runs_the_job_again_and_is_audited(client, login_as, db, run_jobs, flaky):
    admin = login_as(Role.admin)
    event = _failed_event(db, run_jobs)
    (job_id,) = _failed_ids(WEBHOOKS)
    flaky.fixed = True

    response = client.post("/admin/dead-letters/requeue", data={"job_id": [job_id]})
    assert response.status_code == 302
    assert _failed_ids(WEBHOOKS) == []
    run_jobs(WEBHOOKS)
    db.session.refresh(event)
    assert event.status == WebhookStatus.processed
    entry = _db.session.query(AuditLog).filter_by(action="dead_letter.requeued").one()
    assert entry.actor_id == admin.id and entry.target_id == job_id


def test_requeue_all_and_discard(client, login_as, db, run_jobs, flaky):
    login_as(Role.admin)
    first = _failed_event(db, run_jobs)
    second = _failed_event(db, run_jobs)
    by_event = {}
    for job_id in _failed_ids(WEBHOOKS):
        by_event[get_queue(WEBHOOKS).fetch_job(job_id).args[0]] = job_id

    client.post("/admin/dead-letters/discard", data={"job_id": [by_event[first.id]], "confirmed": "yes"})
    assert _failed_ids(WEBHOOKS) == [by_event[second.id]]
    assert get_queue(WEBHOOKS).fetch_job(by_event[first.id]) is None

    flaky.fixed = True
    client.post("/admin/dead-letters/requeue", data={"all": "1"})
    run_jobs(WEBHOOKS)
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.status, second.status) == (WebhookStatus.failed, WebhookStatus.processed)
    actions = [row.action for row in _db.session.query(AuditLog).order_by(AuditLog.id)]
    assert "dead_letter.discarded" in actions and "dead_letter.requeued" in actions


def test_discarding_asks_first_and_says_what_it_does(client, login_as, db, run_jobs, flaky):
    login_as(Role.admin)
    _failed_event(db, run_jobs)
    (job_id,) = _failed_ids(WEBHOOKS)
    response = client.post("/admin/dead-letters/discard", data={"job_id": [job_id]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Discard 1 failed job?" in html
    assert "will not run again" in html and f'name="job_id" value="{job_id}"' in html
    assert 'name="confirmed" value="yes"' in html
    assert _failed_ids(WEBHOOKS) == [job_id]  # asking discarded nothing
    nothing = client.post("/admin/dead-letters/discard", data={})
    assert nothing.status_code == 302 and _failed_ids(WEBHOOKS) == [job_id]


def test_a_job_that_fails_again_after_requeue_counts_one_more_try(client, login_as, db, run_jobs, flaky):
    login_as(Role.admin)
    event = _failed_event(db, run_jobs)
    tries_before = event.attempts
    client.post("/admin/dead-letters/requeue", data={"all": "1"})
    run_jobs(WEBHOOKS)
    db.session.refresh(event)
    assert event.attempts == tries_before + 1
    html = client.get("/admin/dead-letters").get_data(as_text=True)
    (job_id,) = _failed_ids(WEBHOOKS)
    row = html[html.index(f'id="job-{job_id}"') :]
    assert f"<td>{event.attempts}</td>" in row[: row.index("</tr>")]


def test_running_workers_are_listed_with_their_heartbeat(app, client, login_as, db):
    login_as(Role.admin)
    assert "No worker is running" in client.get("/admin/dead-letters").get_data(as_text=True)
    worker = build_worker(app, name="admin-page-worker")
    worker.register_birth()
    try:
        worker.heartbeat()
        html = client.get("/admin/dead-letters").get_data(as_text=True)
    finally:
        worker.register_death()
    assert "admin-page-worker" in html and "last heartbeat" in html


def test_a_failed_outbound_job_links_to_its_message_in_the_conversation(client, login_as, db, run_jobs):
    login_as(Role.admin)
    conversation = factories.conversation()
    message = factories.message(conversation, Direction.outbound, status=MessageStatus.queued)
    db.session.commit()
    assert enqueue_now("tests.test_admin_dead_letters.explode", message.id, queue=OUTBOUND)
    run_jobs(OUTBOUND)
    html = client.get("/admin/dead-letters").get_data(as_text=True)
    assert f'href="/conversations/{conversation.id}#message-{message.id}"' in html
