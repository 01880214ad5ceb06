"""Scheduled auto-rules job (queue `default`): fire `no_reply_after:<minutes>` rules that are due."""

from __future__ import annotations

from portal.extensions import db
from portal.services import rules


def fire_timed_rules() -> int:
    """Scheduled every minute; takes no row id because it scans for conversations waiting too
    long for a reply. Returns how many rules fired."""
    fired = rules.fire_timed_rules()
    db.session.commit()
    return fired
