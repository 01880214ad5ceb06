"""The pipeline board: conversations as cards in columns by status."""

from flask import Blueprint

bp = Blueprint("board", __name__, url_prefix="/board")

from portal.board import views  # noqa: E402,F401
