"""The e-mail channel's scheduled job (queue "default"; docs/architecture.md, "Queues and jobs")."""

from __future__ import annotations

from portal.channels.email import fetch


def fetch_mail() -> int:
    """Fetch new mail from every e-mail inbox (portal.channels.email.fetch)."""
    return fetch.fetch_all()
