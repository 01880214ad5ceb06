"""Teams (sectors): supervisors create them, choose members, auto-assignment and capacities."""

from flask import Blueprint

bp = Blueprint("teams", __name__, url_prefix="/teams")

from portal.teams import views  # noqa: E402,F401
