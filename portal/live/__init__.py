"""Live updates in the browser: presence beats and the unread count (views.py), and the stream
server that pushes changes to open tabs (stream.py, run by `python -m portal.live`)."""

from flask import Blueprint

bp = Blueprint("live", __name__)

from portal.live import views  # noqa: E402,F401
