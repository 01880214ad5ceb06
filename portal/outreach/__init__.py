"""Writing first (docs/architecture.md, "Proactive messaging"): a new conversation from the inbox
or a contact's page (any agent, from their inboxes)."""

from flask import Blueprint

bp = Blueprint("outreach", __name__)

from portal.outreach import opt_out_views, scheduled_views, views  # noqa: E402,F401
