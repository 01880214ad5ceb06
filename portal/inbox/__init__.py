from flask import Blueprint

bp = Blueprint("inbox", __name__)

from portal.inbox import views  # noqa: E402,F401
