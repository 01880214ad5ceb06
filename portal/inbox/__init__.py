from flask import Blueprint

bp = Blueprint("inbox", __name__)

from portal.inbox import attachments, collab, views  # noqa: E402,F401
