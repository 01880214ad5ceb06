"""Runtime settings edited in the portal (table `settings`), with typed accessors and defaults.
Environment settings (secrets, URLs) stay in app.config; these are the ones a supervisor or
admin changes without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agent, Priority, Setting, SlaTarget
from portal.services import audit

# Default first-response targets per priority (docs/architecture.md, "SLA").
DEFAULT_FIRST_RESPONSE_SEC = {
    Priority.urgent: 15 * 60,
    Priority.high: 60 * 60,
    Priority.normal: 4 * 60 * 60,
    Priority.low: 24 * 60 * 60,
}


def get(key: str, default: Any = None) -> Any:
    row = db.session.get(Setting, key)
    return default if row is None else row.value


def put(key: str, value: Any, *, by: Agent | None = None) -> None:
    row = db.session.get(Setting, key)
    old = None if row is None else row.value
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    if old != value:
        audit.record("settings.changed", actor=by, target=("settings", key), old=old, new=value)


def time_zone() -> str:
    return get("time_zone") or current_app.config["TIME_ZONE"]


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday); a missing weekday is closed."""

    days: dict[int, tuple[time, time]]

    def to_json(self) -> dict[str, list[str]]:
        return {str(d): [o.strftime("%H:%M"), c.strftime("%H:%M")] for d, (o, c) in self.days.items()}

    @classmethod
    def from_json(cls, raw: dict[str, list[str]]) -> BusinessHours:
        return cls({int(d): (time.fromisoformat(o), time.fromisoformat(c)) for d, (o, c) in raw.items()})


def business_hours() -> BusinessHours | None:
    """None when business hours are off: then every hour counts for SLA."""
    raw = get("business_hours")
    return BusinessHours.from_json(raw) if raw else None


def sla_targets() -> dict[Priority, SlaTarget]:
    """The first-response (and optional resolution) target per priority, defaults filled in."""
    stored = {t.priority: t for t in db.session.scalars(select(SlaTarget))}
    return {
        p: stored.get(p) or SlaTarget(priority=p, first_response_sec=DEFAULT_FIRST_RESPONSE_SEC[p])
        for p in Priority
    }


def send_read_receipts() -> bool:
    return bool(get("send_read_receipts", current_app.config["WHATSAPP_SEND_READ_RECEIPTS"]))
