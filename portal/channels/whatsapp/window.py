"""WhatsApp's customer-service window: free text may go out only within 24 hours of the
customer's last message; outside it, only an approved template (docs/architecture.md, "WhatsApp")."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _

from portal.models import Conversation, utcnow

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


def closes_at(conversation: Conversation) -> datetime | None:
    """When free text stops being allowed: 24 h after the customer's last message (None: never wrote)."""
    if conversation.last_inbound_at is None:
        return None
    return conversation.last_inbound_at + CUSTOMER_SERVICE_WINDOW


def is_open(conversation: Conversation, now: datetime | None = None) -> bool:
    closing = closes_at(conversation)
    return closing is not None and (now or utcnow()) < closing


def refusal(conversation: Conversation) -> str | None:
    """Why free text cannot be sent now, or None when it can."""
    if conversation.last_inbound_at is None:
        return _("The customer has not written yet: only a template can start the conversation.")
    if not is_open(conversation):
        return _(
            "More than 24 hours have passed since the customer's last message, so WhatsApp only "
            "accepts an approved template."
        )
    return None
