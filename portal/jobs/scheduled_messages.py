"""Queue "default", scheduled every few seconds: the scheduled messages that are due become queued
messages (portal.services.scheduled_messages; docs/architecture.md, "Proactive messaging")."""

from __future__ import annotations

from portal.extensions import db
from portal.services import scheduled_messages


def send_due_messages() -> tuple[int, int]:
    return scheduled_messages.send_due(commit=db.session.commit)
