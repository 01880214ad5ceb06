"""How the thread shows time: a separator per day (in the installation's time zone); the bubbles
show the time of day through the |when filter (style "clock"), the full date on hover."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_babel import format_date, to_user_timezone
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

