"""Scheduled SLA job (queue `default`): open breach incidents for conversations past a target."""

from __future__ import annotations

from datetime import datetime

from portal.extensions import db
from portal.services import sla


def check_sla_breaches() -> int:
    """Scheduled every minute; takes no row id because it scans for what is due. Returns how many
    incidents it opened."""
    opened = sla.check_breaches()
    db.session.commit()
    return len(opened)


def warn_sla(now: datetime | None = None) -> int:
    """Scheduled every minute; warns the conversations that reached the warning share of a target
    (`now` lets a test hold the clock). Returns how many warnings went out."""
    warned = sla.warn_due(now)
    db.session.commit()
    return len(warned)
