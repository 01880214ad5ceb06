"""/metrics: Prometheus text that a real parser reads, with the operating figures, behind a
token or loopback (portal/ops/metrics.py)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from portal.models import Direction, MessageStatus, WebhookEvent, WebhookStatus, utcnow
from portal.ops.figures import report_open_streams
from portal.queue import WEBHOOKS, get_queue, redis_connection
from tests import factories

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def _samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _event(status: WebhookStatus, received_ago: timedelta, processed_after: timedelta | None = None) -> WebhookEvent:
    received = utcnow() - received_ago
    return WebhookEvent(
        provider="whatsapp",
        event_type="messages",
        payload_json={},
        status=status,
        received_at=received,
        processed_at=received + processed_after if processed_after else None,
    )


def test_metrics_report_queues_webhooks_sends_and_streams(app, db, client):
    db.session.add_all(
        [
            _event(WebhookStatus.pending, timedelta(minutes=5)),
            _event(WebhookStatus.pending, timedelta(minutes=1)),
            _event(WebhookStatus.failed, timedelta(minutes=2)),
            _event(WebhookStatus.processed, timedelta(minutes=3), processed_after=timedelta(seconds=2)),
            _event(WebhookStatus.processed, timedelta(minutes=4), processed_after=timedelta(seconds=4)),
        ]
    )
    conversation = factories.conversation()
    now = utcnow()
    factories.message(conversation, Direction.outbound, sent_at=now - timedelta(minutes=1),
                      send_attempted_at=now - timedelta(seconds=50), status=MessageStatus.sent)
    for code in (131026, 131026, None):
        factories.message(conversation, Direction.outbound, sent_at=now - timedelta(minutes=2),
                          status=MessageStatus.failed, error_code=code)
    db.session.commit()
    get_queue(WEBHOOKS).enqueue("portal.jobs.nothing_at_all", 1)
    report_open_streams(redis_connection(), "stream-1", 3)
    report_open_streams(redis_connection(), "stream-2", 4)
    client.get("/login")

    response = client.get("/metrics", environ_base=LOCAL)

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    metrics = _samples(response)
    assert metrics[("atende_queue_jobs", (("queue", "webhooks"),))] == 1
    assert metrics[("atende_queue_jobs", (("queue", "outbound"),))] == 0
    assert metrics[("atende_queue_oldest_job_age_seconds", (("queue", "webhooks"),))] >= 0
    assert metrics[("atende_queue_failed_jobs", (("queue", "crm"),))] == 0
    assert metrics[("atende_webhook_events", (("status", "pending"),))] == 2
    assert metrics[("atende_webhook_events", (("status", "failed"),))] == 1
    assert metrics[("atende_webhook_oldest_pending_age_seconds", ())] >= 300
    assert metrics[("atende_inbound_processing_lag_seconds", ())] == 3
    assert metrics[("atende_outbound_send_latency_seconds", ())] == 10
    assert metrics[("atende_outbound_send_failures", (("code", "131026"),))] == 2
    assert metrics[("atende_outbound_send_failures", (("code", "none"),))] == 1
    assert metrics[("atende_open_event_streams", ())] == 7
    login_count = (
        "atende_http_request_duration_seconds_count",
        (("group", "auth"), ("method", "GET"), ("status", "200")),
    )
    assert metrics[login_count] >= 1


def test_metrics_without_a_token_answer_only_this_machine(app, db, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    proxied = client.get("/metrics", environ_base=LOCAL, headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


def test_metrics_with_a_token_need_it_from_anywhere(app, db, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-metrics")
    assert client.get("/metrics", environ_base=LOCAL).status_code == 403
    wrong = client.get("/metrics", environ_base=LOCAL, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"Authorization": "Bearer s3cret-metrics"}
    )
    assert right.status_code == 200
