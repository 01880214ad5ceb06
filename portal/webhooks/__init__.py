"""Webhooks from outside: Meta's WhatsApp notifications. Callers sign their bodies instead of
carrying a CSRF token, so the blueprint is exempt from CSRF."""

from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

from portal.webhooks import views  # noqa: E402,F401
