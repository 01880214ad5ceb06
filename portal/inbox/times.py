"""How the thread shows time: a separator per day (in the installation's time zone) and compact
times on the bubbles, with the full date and time on hover."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_babel import format_date, format_time, to_user_timezone
from flask_babel import gettext as _


def local_day(value: datetime) -> date:
    return to_user_timezone(value.replace(tzinfo=UTC) if value.tzinfo is None else value).date()


def day_label(value: datetime) -> str:
    day = local_day(value)
    today = local_day(datetime.now(UTC))
    if day == today:
        return _("Today")
    if day == today - timedelta(days=1):
        return _("Yesterday")
    return format_date(day, "full")


def compact_time(value: datetime) -> str:
    """"14:05" on the bubble; the day is on its separator."""
    return format_time(value.replace(tzinfo=UTC) if value.tzinfo is None else value, "short")
