"""The admin health page's readings: the /metrics figures with green/amber/red thresholds
(docs: README, "Metrics and health")."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal, lazy_gettext, ngettext
from flask_babel import gettext as _

from portal import labels
from portal.ops import figures
from portal.ops.metrics import http_collector

GOOD, WATCH, ACT = "good", "watch", "act"
LEVEL_LABELS = {GOOD: lazy_gettext("Good"), WATCH: lazy_gettext("Watch"), ACT: lazy_gettext("Act now")}

# (amber from, red from) per reading.
QUEUE_DEPTH = (100, 1000)
JOB_AGE_SECONDS = (60, 300)
FAILED_JOBS = (1, 10)
PENDING_EVENTS = (100, 1000)
FAILED_EVENTS = (1, 10)
PENDING_AGE_SECONDS = (60, 300)
INBOUND_LAG_SECONDS = (5, 30)
SEND_LATENCY_SECONDS = (5, 30)
SEND_FAILURES = (1, 10)
REQUEST_SECONDS = (0.3, 1.0)

# Endpoint groups (blueprints) as the health page names them.
GROUP_LABELS = {
    "admin": lazy_gettext("Admin"),
    "api": lazy_gettext("REST API"),
    "auth": lazy_gettext("Sign-in"),
    "board": lazy_gettext("Pipeline"),
    "contacts": lazy_gettext("Contacts"),
    "crm": lazy_gettext("CRM"),
    "inbox": lazy_gettext("Inbox"),
    "incidents": lazy_gettext("Incidents"),
    "live": lazy_gettext("Live updates"),
    "main": lazy_gettext("Home"),
    "media": lazy_gettext("Media"),
    "ops": lazy_gettext("Metrics"),
    "profile": lazy_gettext("Profile"),
    "reports": lazy_gettext("Reports"),
    "rules": lazy_gettext("Auto-rules"),
    "sla": lazy_gettext("SLA"),
    "static": lazy_gettext("Static files"),
    "templates": lazy_gettext("Templates"),
    "tokens": lazy_gettext("API tokens"),
    "whatsapp": lazy_gettext("WhatsApp webhooks"),
    "other": lazy_gettext("Other"),
}


@dataclass(frozen=True)
class Reading:
    label: str
    value: str
    level: str

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])


def _level(value: float | None, thresholds: tuple[float, float]) -> str:
    amber, red = thresholds
    if value is None or value < amber:
        return GOOD
    return WATCH if value < red else ACT


def _seconds(value: float | None) -> str:
    return _("none") if value is None else _("%(seconds)s s", seconds=format_decimal(value, "#,##0.0"))


def _count(value: int) -> str:
    return format_decimal(value)


def readings() -> tuple[list[Reading], list[Reading]]:
    """The overall readings, and one per endpoint group that served requests (this process's,
    or all gunicorn workers' in multiprocess mode)."""
    found = figures.gather()
    overall = []
    for queue in found.queues:
        name = labels.queue_label(queue.name)
        overall += [
            Reading(_("Jobs waiting: %(queue)s", queue=name), _count(queue.depth), _level(queue.depth, QUEUE_DEPTH)),
            Reading(_("Oldest waiting job: %(queue)s", queue=name), _seconds(queue.oldest_age),
                    _level(queue.oldest_age, JOB_AGE_SECONDS)),
            Reading(_("Failed jobs: %(queue)s", queue=name), _count(queue.failed), _level(queue.failed, FAILED_JOBS)),
        ]
    failures = sum(found.send_failures.values())
    overall += [
        Reading(_("Webhook events pending"), _count(found.webhook_pending), _level(found.webhook_pending, PENDING_EVENTS)),
        Reading(_("Webhook events failed"), _count(found.webhook_failed), _level(found.webhook_failed, FAILED_EVENTS)),
        Reading(_("Oldest pending webhook event"), _seconds(found.webhook_oldest_pending_age),
                _level(found.webhook_oldest_pending_age, PENDING_AGE_SECONDS)),
        Reading(_("Inbound processing lag (mean, 15 min)"), _seconds(found.inbound_lag),
                _level(found.inbound_lag, INBOUND_LAG_SECONDS)),
        Reading(_("Outbound send latency (mean, 15 min)"), _seconds(found.send_latency),
                _level(found.send_latency, SEND_LATENCY_SECONDS)),
        Reading(_("Failed sends (last hour)"), _count(failures), _level(failures, SEND_FAILURES)),
        Reading(_("Open live-update streams"), _count(found.open_streams), GOOD),
    ]
    return overall, _request_readings()


def _request_readings() -> list[Reading]:
    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    for family in http_collector().collect():
        for sample in family.samples:
            group = sample.labels["group"]
            if sample.name.endswith("_count"):
                counts[group] = counts.get(group, 0) + sample.value
            elif sample.name.endswith("_sum"):
                sums[group] = sums.get(group, 0) + sample.value
    found = []
    for group in sorted(counts):
        mean = sums.get(group, 0) / counts[group] if counts[group] else None
        found.append(
            Reading(
                ngettext(
                    "%(area)s: %(num)d request",
                    "%(area)s: %(num)d requests",
                    int(counts[group]),
                    area=GROUP_LABELS.get(group, group),
                ),
                _seconds(mean),
                _level(mean, REQUEST_SECONDS),
            )
        )
    return found
