"""Scheduled snooze job (queue `default`): bring back the conversations whose snooze is due."""

from __future__ import annotations

from datetime import datetime

from portal.extensions import db
from portal.services import snooze


def wake_snoozed(now: datetime | None = None) -> int:
    """Scheduled every 30 seconds; takes no row id because it scans for what is due (`now` lets a
    test hold the clock). Returns how many conversations came back."""
    woken = snooze.wake_due(now)
    db.session.commit()
    return len(woken)
