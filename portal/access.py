"""Who may open which route. Every view declares a minimum role or is marked public; a view that
declares neither is refused (fail closed), and tests walk the URL map to prove it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from portal.extensions import db, login_manager
from portal.models import Agent, Role

F = TypeVar("F", bound=Callable)


def public(view: F) -> F:
    view._atende_public = True  # type: ignore[attr-defined]
    return view


def role_required(minimum: Role) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view._atende_min_role = minimum  # type: ignore[attr-defined]
        return view

    return mark


def minimum_role(app: Flask, endpoint: str) -> Role | None:
    """The role a route needs, or None when it is public."""
    view = app.view_functions[endpoint]
    if getattr(view, "_atende_public", False):
        return None
    return getattr(view, "_atende_min_role", Role.admin)


# Signed machine-to-machine callbacks (Meta, the CRM): no cookie, no session, no signed-in agent.
WEBHOOKS_PATH = "/webhooks/"


def is_webhook(path: str) -> bool:
    return path.startswith(WEBHOOKS_PATH)


def wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/") or is_webhook(request.path)


def _enforce() -> None:
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    if getattr(view, "_atende_public", False):
        return None
    if not hasattr(view, "_atende_min_role"):
        current_app.logger.error("route %s declares no role; refused", request.endpoint)
        abort(403)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(view._atende_min_role):
        abort(403)
    return None


@login_manager.user_loader
def _load_agent(session_id: str) -> Agent | None:
    agent_id, _, version = session_id.partition(":")
    if not agent_id.isdigit() or not version.isdigit():
        return None
    agent = db.session.get(Agent, int(agent_id))
    if agent is None or not agent.active or agent.session_version != int(version):
        return None
    return agent


@login_manager.unauthorized_handler
def _unauthorized():
    if wants_json():
        return jsonify(error={"code": "unauthorized", "message": "Authentication required."}), 401
    login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if request.headers.get("HX-Request"):
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def register(app: Flask) -> None:
    app.before_request(_enforce)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
