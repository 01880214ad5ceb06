from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import select

from portal.access import public, role_required
from portal.crm import bp
from portal.extensions import csrf, db
from portal.models import CrmDelivery, DeliveryStatus, Role
from portal.services import crm, crm_inbound
from portal.web import page_arg, render_page

PER_PAGE = 50


def _json_error(code: str, message: str, status: int):
    return jsonify(error={"code": code, "message": message}), status


@bp.route("/webhooks/crm", methods=["POST"])
@public
@csrf.exempt
def webhook():
    """Store a signed CRM event; refused (and nothing stored) unless signed within five minutes."""
    secret = current_app.config.get("CRM_WEBHOOK_SECRET")
    if not secret:
        return _json_error("not_configured", "CRM_WEBHOOK_SECRET is not set.", 503)
    body = request.get_data(cache=True)
    if not crm.signature_valid(
        secret, request.headers.get("X-Atende-Timestamp"), request.headers.get("X-Atende-Signature"), body
    ):
        return _json_error("bad_signature", "Missing, invalid or expired signature.", 401)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _json_error("bad_request", "The body must be a JSON object.", 400)
    keys = crm_inbound.replay_keys(request.headers["X-Atende-Signature"], payload)
    try:
        first_time = crm_inbound.claim(keys)
    except RedisError:
        response = _json_error("unavailable", "Cannot check for replays right now; send it again later.", 503)
        response[0].headers["Retry-After"] = "30"
        return response
    if not first_time:
        return _json_error("replayed", "This request or event was already received.", 409)
    try:
        event_id = crm_inbound.receive(payload)
    except Exception:
        crm_inbound.release(keys)
        raise
    return jsonify(id=event_id, status="accepted"), 200


@bp.route("/crm/deliveries")
@role_required(Role.admin)
def deliveries():
    status = request.args.get("status", "")
    stmt = select(CrmDelivery).order_by(CrmDelivery.id.desc())
    if status in DeliveryStatus.__members__:
        stmt = stmt.where(CrmDelivery.status == DeliveryStatus(status))
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_page(
        "crm/_deliveries.html", "crm/deliveries.html", page=page, status=status, statuses=list(DeliveryStatus), configured=crm.enabled()
    )


@bp.route("/crm/deliveries/<int:delivery_id>/retry", methods=["POST"])
@role_required(Role.admin)
def retry(delivery_id: int):
    delivery = db.session.get(CrmDelivery, delivery_id) or abort(404)
    if delivery.status == DeliveryStatus.delivered:
        flash(_("Event %(id)s was already delivered; it is never sent twice.", id=delivery.event_id), "warning")
    else:
        crm.retry(delivery, by=current_user)
        db.session.commit()
        flash(_("Event %(id)s queued for delivery.", id=delivery.event_id), "success")
    return redirect(url_for("crm.deliveries", status=request.args.get("status", "")))
