"""The CRM integration's pages: the signed inbound webhook (public: its signature is the gate)
and the outbound deliveries page. Deliveries are admin-only, like the other dead-letter and
webhook-event screens (docs/architecture.md, "Roles and scopes"): the payloads carry customer data and message bodies."""

from flask import Blueprint

bp = Blueprint("crm", __name__)

from portal.crm import views  # noqa: E402,F401
