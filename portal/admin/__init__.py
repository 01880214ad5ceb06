"""Admin tools: agents, inboxes, dead letters, webhook events, the audit log and settings."""

from flask import Blueprint

from portal.pii import mask_text

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Error texts and audit details may quote a phone or an e-mail; admin pages show them masked.
bp.add_app_template_filter(mask_text, "mask_pii")

from portal.admin import custom_fields, health, inboxes, privacy, views  # noqa: E402,F401
