"""Auto-rules: the supervisor forms for rules that send a template when something happens."""

from flask import Blueprint

bp = Blueprint("rules", __name__, url_prefix="/rules")

from portal.rules import views  # noqa: E402,F401
