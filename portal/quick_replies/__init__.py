"""Quick replies: shared ones (supervisors, /quick-replies), personal ones (each agent,
/profile/quick-replies), and the list the composer's `/` picker reads."""

from flask import Blueprint

bp = Blueprint("quick_replies", __name__)

from portal.quick_replies import views  # noqa: E402,F401
