"""Jobs the worker enqueues on a timer (docs/architecture.md, "Queues and jobs")."""

from __future__ import annotations

from dataclasses import dataclass

from portal.queue import DEFAULT


@dataclass(frozen=True)
class Scheduled:
    func: str
    every_seconds: int
    queue: str = DEFAULT


SCHEDULE: tuple[Scheduled, ...] = (
    Scheduled("portal.jobs.sla.check_sla_breaches", 60),
    Scheduled("portal.jobs.rules.fire_timed_rules", 60),
    Scheduled("portal.jobs.maintenance.sweep_pending", 30),
    Scheduled("portal.jobs.assignment.assign_waiting", 30),
    Scheduled("portal.jobs.scheduled_messages.send_due_messages", 5),
    Scheduled("portal.jobs.campaigns.tick", 5),
    Scheduled("portal.jobs.snooze.wake_snoozed", 30),
    Scheduled("portal.jobs.triage.expire_menus", 30),
    Scheduled("portal.jobs.sla.warn_sla", 60),
    Scheduled("portal.jobs.privacy.apply_retention", 3600),
    Scheduled("portal.jobs.templates.sync_templates", 86400),
)

# Jobs a channel brings (its adapter's init_app registers them), e.g. the e-mail channel's fetch.
_REGISTERED: list[Scheduled] = []


def register(item: Scheduled) -> None:
    if item not in _REGISTERED:
        _REGISTERED.append(item)


def scheduled() -> tuple[Scheduled, ...]:
    return SCHEDULE + tuple(_REGISTERED)
