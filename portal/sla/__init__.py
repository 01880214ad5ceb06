"""SLA settings: per-priority targets, business hours and time zone (supervisors and up)."""

from flask import Blueprint

bp = Blueprint("sla", __name__, url_prefix="/sla")

from portal.sla import views  # noqa: E402,F401
