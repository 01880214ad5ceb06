"""The agent's own API tokens, at /profile/tokens (the REST API itself is portal.api)."""

from flask import Blueprint

bp = Blueprint("tokens", __name__)

from portal.tokens import views  # noqa: E402,F401
