"""Scheduled template sync (queue `default`, daily): every business account's templates read
from its channel into message_templates (portal.services.templates.sync)."""

from __future__ import annotations

from portal.extensions import db
from portal.services import templates


def sync_templates() -> dict[str, str]:
    """Takes no row id: it lists each account anew, so running it twice changes nothing the second
    time. Returns what happened per account, for the worker's log."""
    results = templates.sync(by=None)
    db.session.commit()
    return {waba: str(result) for waba, result in results.items()}
