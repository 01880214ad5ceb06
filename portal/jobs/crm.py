"""Queue `crm`: deliver one outbound CRM event (a crm_deliveries row)."""

from __future__ import annotations

from rq import get_current_job

from portal.extensions import db
from portal.models import CrmDelivery, DeliveryStatus
from portal.services import crm


def deliver_crm_event(delivery_id: int) -> str:
    """POST the event; a transient failure raises so RQ retries, and the last one leaves the row failed."""
    delivery = db.session.get(CrmDelivery, delivery_id)
    if delivery is None:
        return "missing"
    if delivery.status == DeliveryStatus.delivered:
        return "already delivered"  # a re-run never sends twice
    outcome = crm.attempt(delivery)
    if outcome.retryable:
        job = get_current_job()
        if job is None or not job.should_retry:
            crm.give_up(delivery)
        db.session.commit()  # the attempt is on the row whatever happens next
        raise crm.TransientDeliveryError(f"crm delivery {delivery_id}: {delivery.last_error}")
    db.session.commit()
    return str(outcome.status)
