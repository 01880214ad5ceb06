"""Business time: how many seconds of opening hours lie between two instants.

Pure functions over naive-UTC datetimes (how the database stores them), a BusinessHours value
(opening hours per local weekday) and an IANA time zone name. Opening hours are read in the
installation's local time, so a DST change moves them with the wall clock. A holiday
(BusinessHours.holidays: Brazil's national and state holidays, custom dates) is closed all day,
in the local calendar. With no business hours (None, or no open weekday) every
second counts, which is what SLA measures when a supervisor has not set hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.services.settings import BusinessHours


def _to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(zone)


def _to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _open_windows(
    start: datetime, end: datetime, hours: BusinessHours, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """The opening windows (naive UTC) of each local day from start's to end's, clipped to [start, end]."""
    day = _to_local(start, zone).date()
    last = _to_local(end, zone).date()
    while day <= last:
        window = hours.open_on(day)
        if window is not None:
            opens, closes = _to_utc(day, window[0], zone), _to_utc(day, window[1], zone)
            lo, hi = max(start, opens), min(end, closes)
            if hi > lo:
                yield lo, hi
        day += timedelta(days=1)


def local_day_start(day: date, tz: str) -> datetime:
    """The instant (naive UTC) a local calendar day begins in `tz`."""
    return _to_utc(day, time(0), ZoneInfo(tz))


def business_seconds(start: datetime, end: datetime, hours: BusinessHours | None, tz: str) -> int:
    """Seconds between `start` and `end` that fall inside opening hours (all of them without hours).

    Whole seconds, rounded down; 0 when `end` is not after `start`. The cost grows with the
    number of local days spanned, which for SLA waiting times is a handful.
    """
    if end <= start:
        return 0
    if hours is None or not hours.days:
        return int((end - start).total_seconds())
    zone = ZoneInfo(tz)
    return int(sum((hi - lo).total_seconds() for lo, hi in _open_windows(start, end, hours, zone)))


def is_open(instant: datetime, hours: BusinessHours | None, tz: str) -> bool:
    """Whether `instant` (naive UTC) lies inside opening hours; always True without hours."""
    if hours is None or not hours.days:
        return True
    local = _to_local(instant, ZoneInfo(tz))
    window = hours.open_on(local.date())
    return window is not None and window[0] <= local.time().replace(tzinfo=None) < window[1]
