"""/campaigns (supervisors): a template sent to an audience at a rate the inbox never exceeds,
with a preview before anything is sent and a live progress page (portal.services.campaigns)."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

from portal.campaigns import views  # noqa: E402,F401
