"""Prometheus metrics at /metrics (docs: README, "Metrics and health").

Access: `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set; otherwise only from this
machine, and not through a reverse proxy (a proxied request carries X-Forwarded-For).

Queue, webhook, inbound, outbound and stream figures are gauges computed from Redis and the
database at scrape time (portal/ops/figures.py), so any gunicorn worker answers with the same
numbers. HTTP request counts and latencies are a histogram kept in each process; with several
gunicorn workers set PROMETHEUS_MULTIPROC_DIR to an empty folder, and prometheus-client's
multiprocess mode adds the workers up.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from portal.access import public
from portal.ops import figures

bp = Blueprint("ops", __name__)

HTTP_REQUEST_SECONDS = Histogram(
    "atende_http_request_duration_seconds",
    "HTTP requests by endpoint group (blueprint), method and status, with their latency",
    ["group", "method", "status"],
    registry=None,
)


def _gauge(name: str, documentation: str, value: float | None, labels: dict[str, str] | None = None):
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    if value is not None:
        family.add_metric(list((labels or {}).values()), value)
    return family


class FiguresCollector(Collector):
    """The scrape-time gauges."""

    def collect(self):
        found = figures.gather()
        depth = GaugeMetricFamily("atende_queue_jobs", "Jobs waiting in each RQ queue", labels=["queue"])
        oldest = GaugeMetricFamily(
            "atende_queue_oldest_job_age_seconds", "Age of the oldest waiting job per RQ queue", labels=["queue"]
        )
        failed = GaugeMetricFamily("atende_queue_failed_jobs", "Failed jobs (dead letters) per RQ queue", labels=["queue"])
        for queue in found.queues:
            depth.add_metric([queue.name], queue.depth)
            oldest.add_metric([queue.name], queue.oldest_age or 0)
            failed.add_metric([queue.name], queue.failed)
        yield from (depth, oldest, failed)
        events = GaugeMetricFamily("atende_webhook_events", "Webhook events pending or failed", labels=["status"])
        events.add_metric(["pending"], found.webhook_pending)
        events.add_metric(["failed"], found.webhook_failed)
        yield events
        yield _gauge(
            "atende_webhook_oldest_pending_age_seconds",
            "Age of the oldest pending webhook event",
            found.webhook_oldest_pending_age or 0,
        )
        yield _gauge(
            "atende_inbound_processing_lag_seconds",
            "Mean time from receiving a webhook event to processing it, last 15 minutes",
            found.inbound_lag,
        )
        yield _gauge(
            "atende_outbound_send_latency_seconds",
            "Mean time from writing an outbound message to calling the channel's API, last 15 minutes",
            found.send_latency,
        )
        failures = GaugeMetricFamily(
            "atende_outbound_send_failures", "Outbound messages that failed in the last hour, by error code", labels=["code"]
        )
        for code, count in sorted(found.send_failures.items()):
            failures.add_metric([code], count)
        yield failures
        yield _gauge("atende_open_event_streams", "Live-update streams open in the stream servers", found.open_streams)


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def http_collector() -> Collector:
    """This process's HTTP histogram, or every gunicorn worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return multiprocess.MultiProcessCollector(None)
    return HTTP_REQUEST_SECONDS


def registry() -> CollectorRegistry:
    found = CollectorRegistry()
    found.register(http_collector())
    found.register(FiguresCollector())
    return found


@bp.route("/metrics")
@public  # guarded by METRICS_TOKEN or loopback instead of a session (_allowed)
def metrics():
    if not _allowed():
        abort(403)
    return Response(generate_latest(registry()), mimetype=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.ops_request_started = time.perf_counter()


def _observe(response):
    started = g.pop("ops_request_started", None)
    if started is not None:
        group = request.blueprint or ("static" if request.endpoint == "static" else "other")
        HTTP_REQUEST_SECONDS.labels(group, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def register(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
