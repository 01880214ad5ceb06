"""The REST API under /api/v1: JSON in and out, bearer tokens only (portal.api.auth), the same
role scopes as the UI, and an OpenAPI document at /api/v1/openapi.json (portal.api.openapi)."""

from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Token-authenticated and never cookie-authenticated, so there is no session for CSRF to protect.
csrf.exempt(bp)

from portal.api import (  # noqa: E402,F401
    attachments,
    auth,
    contacts,
    conversations,
    errors,
    new_conversations,
    openapi,
    params,
    quick_replies,
    tags,
)

errors.register(bp)
bp.before_request(auth.require_token)
bp.before_request(params.refuse_nul_in_query)
bp.after_request(auth.add_challenge)
