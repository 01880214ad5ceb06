"""Auto-assignment job (queue `default`): work every team's waiting queue (portal.services.assignment).
Enqueued when an agent comes online, and every 30 seconds for whatever the event-driven runs missed."""

from __future__ import annotations

from portal.extensions import db
from portal.services import assignment


def assign_waiting() -> int:
    """Takes no row id: it scans the queues. Returns how many conversations were assigned."""
    given = assignment.assign_all_waiting()
    db.session.commit()
    return given
