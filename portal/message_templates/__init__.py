"""Message templates: list, create, edit, delete and preview (supervisors and up)."""

from flask import Blueprint

bp = Blueprint("templates", __name__, url_prefix="/templates")

from portal.message_templates import views  # noqa: E402,F401
