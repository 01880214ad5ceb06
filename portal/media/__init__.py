"""Downloaded WhatsApp media, served only to agents who may see the conversation."""

from flask import Blueprint

bp = Blueprint("media", __name__, url_prefix="/media")

from portal.media import views  # noqa: E402,F401
