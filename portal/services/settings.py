"""Runtime settings edited in the portal (table `settings`), with typed accessors and defaults.
Environment settings (secrets, URLs) stay in app.config; these are the ones a supervisor or
admin changes without a restart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from typing import Any

import holidays as holiday_library
from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agent, Priority, Setting, SlaTarget
from portal.services import audit, unit_cache

# Default first-response targets per priority (docs/architecture.md, "SLA").
DEFAULT_FIRST_RESPONSE_SEC = {
    Priority.urgent: 15 * 60,
    Priority.high: 60 * 60,
    Priority.normal: 4 * 60 * 60,
    Priority.low: 24 * 60 * 60,
}


def _all_values() -> dict[str, Any]:
    # The table holds a few dozen small rows: one read serves every setting a unit of work asks for.
    return dict(db.session.execute(select(Setting.key, Setting.value)).tuples().all())


_VALUES = unit_cache.UnitValue("settings", _all_values, watch={Setting: None})


def get(key: str, default: Any = None) -> Any:
    values = _VALUES.get()
    return values[key] if key in values else default


def put(key: str, value: Any, *, by: Agent | None = None) -> None:
    unit_cache.forget(Setting)
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


# Brazil's states for state holidays (the holidays library's subdivisions of BR).
BR_STATES: tuple[str, ...] = tuple(s for s in holiday_library.country_holidays("BR").subdivisions if len(s) == 2)
DEFAULT_OUT_OF_HOURS_COOLDOWN_HOURS = 12
# The share of an SLA target at which the warning goes out (docs/architecture.md, "SLA").
DEFAULT_SLA_WARNING_PERCENT = 80


@lru_cache(maxsize=256)
def _library_holidays(state: str | None, year: int) -> frozenset[date]:
    return frozenset(holiday_library.country_holidays("BR", subdiv=state, years=year))


@dataclass(frozen=True)
class Holidays:
    """Whole days closed: Brazil's national holidays (and one state's, optionally) from the
    maintained `holidays` library, plus custom dates (a city's anniversary, a company day off)."""

    national: bool = True
    state: str | None = None
    custom: frozenset[date] = frozenset()

    def closes(self, day: date) -> bool:
        return day in self.custom or (self.national and day in _library_holidays(self.state, day.year))

    def to_json(self) -> dict[str, Any]:
        return {"national": self.national, "state": self.state, "custom": sorted(d.isoformat() for d in self.custom)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Holidays:
        state = raw.get("state")
        return cls(
            national=bool(raw.get("national", True)),
            state=state if state in BR_STATES else None,
            custom=frozenset(date.fromisoformat(d) for d in raw.get("custom") or ()),
        )


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday); a missing weekday is closed, and so is a holiday."""

    days: dict[int, tuple[time, time]]
    holidays: Holidays | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, list[str]]:
        return {str(d): [o.strftime("%H:%M"), c.strftime("%H:%M")] for d, (o, c) in self.days.items()}

    @classmethod
    def from_json(cls, raw: dict[str, list[str]], holidays: Holidays | None = None) -> BusinessHours:
        return cls({int(d): (time.fromisoformat(o), time.fromisoformat(c)) for d, (o, c) in raw.items()}, holidays)

    def open_on(self, day: date) -> tuple[time, time] | None:
        """The day's opening hours, None when closed (its weekday or a holiday)."""
        window = self.days.get(day.weekday())
        if window is None or (self.holidays is not None and self.holidays.closes(day)):
            return None
        return window


def holidays() -> Holidays:
    """The installation's holidays: Brazil's national ones unless turned off."""
    raw = get("holidays")
    return Holidays.from_json(raw) if raw else Holidays()


def business_hours() -> BusinessHours | None:
    """None when business hours are off: then every hour counts for SLA."""
    raw = get("business_hours")
    return BusinessHours.from_json(raw, holidays()) if raw else None


def out_of_hours_cooldown_hours() -> int:
    """A contact gets the out-of-hours reply at most once in this many hours."""
    return int(get("out_of_hours_cooldown_hours") or DEFAULT_OUT_OF_HOURS_COOLDOWN_HOURS)


def sla_warning_percent() -> int:
    """At this percentage of a target the conversation's people are warned (1 to 99)."""
    return int(get("sla_warning_percent") or DEFAULT_SLA_WARNING_PERCENT)


def sla_targets() -> dict[Priority, SlaTarget]:
    """The first-response (and optional resolution) target per priority, defaults filled in."""
    stored = {t.priority: t for t in db.session.scalars(select(SlaTarget))}
    return {
        p: stored.get(p) or SlaTarget(priority=p, first_response_sec=DEFAULT_FIRST_RESPONSE_SEC[p])
        for p in Priority
    }


def send_read_receipts() -> bool:
    return bool(get("send_read_receipts", current_app.config["WHATSAPP_SEND_READ_RECEIPTS"]))
