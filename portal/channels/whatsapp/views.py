"""GET /webhooks/whatsapp answers Meta's verification handshake; POST stores a signed notification
and answers 200 once the row is committed (docs/architecture.md, "Durability", rule 1).
Processing is the worker's. A database that stays unreachable is answered 503 with Retry-After
(portal.web), and Meta delivers again. Meta signs its bodies instead of carrying a CSRF token, so
the blueprint is exempt from CSRF; the adapter registers it."""

from __future__ import annotations

import hmac
import json
import math
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from portal.access import public
from portal.channels.whatsapp import webhook
from portal.extensions import csrf
from portal.services import webhook_events

bp = Blueprint("whatsapp", __name__, url_prefix="/webhooks/whatsapp")
csrf.exempt(bp)


@bp.route("", methods=["GET"])
@public
def verify():
    token = request.args.get("hub.verify_token", "")
    expected = current_app.config["WHATSAPP_VERIFY_TOKEN"] or ""
    if request.args.get("hub.mode") != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
        abort(403)
    return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")


@bp.route("", methods=["POST"])
@public
def receive():
    # The signature covers the exact bytes Meta sent, so it is checked before anything parses them.
    raw = request.get_data(cache=True)
    signature = request.headers.get(webhook.SIGNATURE_HEADER)
    if not webhook.signature_is_valid(raw, signature, current_app.config["WHATSAPP_APP_SECRET"]):
        abort(401)
    payload = _json_object(raw)
    if payload is None:
        return jsonify(error={"code": "bad_request", "message": "The body is not a JSON object."}), 400
    event_id = webhook_events.store("whatsapp", webhook.event_type(payload), payload)
    return jsonify(status="received", id=event_id)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object that every database can store, or None."""
    try:
        payload = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        # Lone surrogates (valid JSON escapes) cannot be stored as text: refuse them here.
        json.dumps(payload, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value
