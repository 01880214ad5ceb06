"""Scheduled retention job (queue `default`): clear old message text and media of every inbox
that has a retention policy (portal.services.privacy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models import Inbox
from portal.services import privacy


def apply_retention(now: datetime | None = None) -> int:
    """Scheduled every hour; takes no row id because it scans for what is due (`now` lets a test
    hold the clock). Each batch commits, so a killed run leaves only whole batches done and the
    next run goes on. Returns how many messages were cleared."""
    cleared = 0
    for inbox in db.session.scalars(select(Inbox).order_by(Inbox.id)).all():
        cleared += privacy.apply_retention(inbox, now=now, commit=db.session.commit).messages
    db.session.commit()
    return cleared
