"""Bearer-token authentication for /api/.

Only a token authenticates an API call. A browser session cookie must not: the API is exempt
from CSRF, so a cookie-authenticated call could be forged by any site the agent visits. The
request loader runs only for /api/ paths; the blueprint's before_request then refuses a user that
Flask-Login found through the session (or a remember-me cookie) rather than through a token.
"""

from __future__ import annotations

from flask import Request, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.errors import ApiError
from portal.extensions import db, login_manager
from portal.models import Agent
from portal.services import api_tokens

API_PATH_PREFIX = "/api/"
BEARER_CHALLENGE = 'Bearer realm="atende"'


def bearer_credential(req: Request) -> str | None:
    scheme, _separator, credential = req.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


@login_manager.request_loader
def load_agent_from_token(req: Request) -> Agent | None:
    if not req.path.startswith(API_PATH_PREFIX):
        return None
    credential = bearer_credential(req)
    if credential is None:
        return None
    token = api_tokens.authenticate(credential)
    if token is None:
        return None
    # The token's use is its own unit of work, committed before the view starts its own.
    db.session.commit()
    g.api_token_agent_id = token.agent_id
    return token.agent


def require_token() -> None:
    """The API's before_request: the current user must have come from a bearer token."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "_atende_public", False):
        return
    if g.get("api_token_agent_id") is None or g.api_token_agent_id != getattr(current_user, "id", None):
        raise ApiError(
            401,
            "unauthorized",
            _("Send a valid API token in the Authorization header (Bearer); browser sessions are not accepted."),
        )


def add_challenge(response):
    """RFC 6750: a 401 tells the client which scheme to use."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return response
