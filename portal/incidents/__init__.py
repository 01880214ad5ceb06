"""Incidents: the list with filters, manual creation from a conversation, editable notes."""

from flask import Blueprint

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

from portal.incidents import views  # noqa: E402,F401
