"""Scheduled triage job (queue `default`): menus left unanswered past their inbox's timeout send
their conversation to the default team (portal.services.triage)."""

from __future__ import annotations

from datetime import datetime

from portal.extensions import db
from portal.services import triage


def expire_menus(now: datetime | None = None) -> int:
    """Scheduled every 30 seconds; takes no row id because it scans for what is due (`now` lets a
    test hold the clock). Returns how many conversations went to a default team."""
    routed = triage.expire_waiting(now)
    db.session.commit()
    return len(routed)
