"""Outbound CRM events: one `crm_deliveries` row per domain event, delivered by a job on queue `crm`.

Nothing is recorded unless both CRM_WEBHOOK_URL and CRM_WEBHOOK_SECRET are set: an unsigned
event would be refused by the CRM anyway, and an unset URL means no CRM.

Wire format (what a CRM implements):
  POST <CRM_WEBHOOK_URL>, Content-Type: application/json; charset=utf-8
  body    {"id": "<uuid4, unique per event>", "type": "contact.updated",
           "occurred_at": "2026-11-25T14:50:17Z", "data": {...}}
  X-Atende-Timestamp  unix seconds when this attempt was signed
  X-Atende-Signature  "sha256=" + hex HMAC-SHA256(CRM_WEBHOOK_SECRET, "<timestamp>.<raw body>")
  A receiver should recompute the HMAC over the exact bytes received, compare in constant time,
  refuse timestamps more than five minutes away, and dedupe on `id` (a retry repeats it).
  Answer 2xx when stored. 408, 429 and 5xx (or a timeout) are retried with backoff; any other
  status is a permanent refusal and is not retried.

`message.created` carries the message body: the CRM keeps the conversation history. It is never
logged (portal.pii masks payloads, and this module logs ids only).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app

from portal.extensions import db
from portal.models import (
    Agent,
    Conversation,
    CrmDelivery,
    DeliveryStatus,
    Incident,
    Message,
    utcnow,
)
from portal.queue import CRM, backoff, enqueue_after_commit
from portal.services import audit, representations
from portal.services.representations import utc_seconds

log = logging.getLogger(__name__)

DELIVER_JOB = "portal.jobs.crm.deliver_crm_event"
MAX_RETRIES = 4  # five attempts in all
TIMEOUT_SECONDS = 10
SIGNATURE_WINDOW_SECONDS = 5 * 60
RESPONSE_KEEP_CHARS = 2000
RETRYABLE_STATUS = frozenset({408, 429})
# The domain events sent to the CRM (record_event subscribes to them in portal.subscribers).
EVENT_TYPES = (
    "contact.created",
    "contact.updated",
    "conversation.created",
    "conversation.status_changed",
    "conversation.assigned",
    "conversation.updated",
    "message.created",
    "sla.breached",
)


def enabled() -> bool:
    return bool(current_app.config.get("CRM_WEBHOOK_URL") and current_app.config.get("CRM_WEBHOOK_SECRET"))


# -- signing, shared with the inbound webhook ---------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _is_unix_seconds(text: str) -> bool:
    # isascii(): "²" and other Unicode digits pass isdigit() but not int(); the length keeps int() cheap.
    return text.isascii() and text.isdigit() and len(text) <= 12


def signature_valid(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, *, now: float | None = None
) -> bool:
    """True when `signature` signs "timestamp.body" and the timestamp is within five minutes."""
    if not secret or not timestamp or not signature or not _is_unix_seconds(timestamp):
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, which a hostile header may hold.
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode())


# -- payloads -------------------------------------------------------------------------------------


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    return {**representations.conversation(conversation, utc_seconds), "contact_id": conversation.contact_id}


def message_data(message: Message) -> dict[str, Any]:
    return {
        **representations.message(message, utc_seconds),
        "contact_id": message.conversation.contact_id,
        "type": message.message_type,
    }


def incident_data(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "severity": str(incident.severity), "created_at": utc_seconds(incident.created_at)}


def _event_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    if name.startswith("contact."):
        return {"contact": representations.contact(data["contact"], utc_seconds)}
    if name == "message.created":
        return {"message": message_data(data["message"])}
    result: dict[str, Any] = {"conversation": conversation_data(data["conversation"])}
    if name == "conversation.status_changed":
        result["old_status"] = str(data["old"])
        result["new_status"] = str(data["new"])
    elif name == "conversation.assigned":
        result["old_agent_id"] = data["old_agent_id"]
    elif name == "sla.breached":
        result["incident"] = incident_data(data["incident"])
    if isinstance(data.get("by"), Agent):
        result["by_agent_id"] = data["by"].id
    return result


def record_event(name: str, **data: Any) -> CrmDelivery | None:
    """Record one delivery for this event and send it once the transaction commits."""
    if not enabled():
        return None
    # Rows emitted before their first flush have no id yet; the CRM needs ids.
    if any(getattr(row, "id", 0) is None for row in data.values()):
        db.session.flush()
    delivery = CrmDelivery(
        event_id=str(uuid.uuid4()),
        event_type=name,
        status=DeliveryStatus.pending,
        payload_json={},
    )
    delivery.payload_json = {
        "id": delivery.event_id,
        "type": name,
        "occurred_at": utc_seconds(utcnow()),
        "data": _event_data(name, data),
    }
    db.session.add(delivery)
    db.session.flush()
    enqueue_after_commit(db.session, DELIVER_JOB, delivery.id, queue=CRM, retry=backoff(MAX_RETRIES))
    return delivery


def retry(delivery: CrmDelivery, *, by: Agent) -> None:
    """Send a delivery again (after the CRM was fixed); a delivered one is never resent."""
    if delivery.status == DeliveryStatus.delivered:
        return
    delivery.status = DeliveryStatus.pending
    audit.record("crm.delivery_retried", actor=by, target=delivery, event_type=delivery.event_type)
    enqueue_after_commit(db.session, DELIVER_JOB, delivery.id, queue=CRM, retry=backoff(MAX_RETRIES))


# -- delivery ---------------------------------------------------------------------------------------


class TransientDeliveryError(RuntimeError):
    """The CRM may accept this later: the job raises it so RQ retries with backoff."""


@dataclass(frozen=True)
class AttemptOutcome:
    status: DeliveryStatus
    retryable: bool = False


def body_bytes(delivery: CrmDelivery) -> bytes:
    return json.dumps(delivery.payload_json, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def attempt(delivery: CrmDelivery) -> AttemptOutcome:
    """POST the event once and record the attempt on the row. Pending + retryable means "try again"."""
    url = current_app.config.get("CRM_WEBHOOK_URL")
    secret = current_app.config.get("CRM_WEBHOOK_SECRET")
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    if not url or not secret:
        return _finish(delivery, DeliveryStatus.failed, error="CRM_WEBHOOK_URL or CRM_WEBHOOK_SECRET is not set.")
    body = body_bytes(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Atende-CRM/1",
        "X-Atende-Event": delivery.event_type,
        "X-Atende-Event-Id": delivery.event_id,
        "X-Atende-Timestamp": timestamp,
        "X-Atende-Signature": sign(secret, timestamp, body),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        delivery.last_status_code = None
        delivery.last_response = None
        return _finish(delivery, DeliveryStatus.pending, error=f"{type(exc).__name__}: could not reach the CRM")
    delivery.last_status_code = response.status_code
    delivery.last_response = response.text[:RESPONSE_KEEP_CHARS]
    if 200 <= response.status_code < 300:
        delivery.delivered_at = utcnow()
        return _finish(delivery, DeliveryStatus.delivered, error=None)
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
        return _finish(delivery, DeliveryStatus.pending, error=f"HTTP {response.status_code}")
    return _finish(delivery, DeliveryStatus.failed, error=f"HTTP {response.status_code}: refused by the CRM")


def _finish(delivery: CrmDelivery, status: DeliveryStatus, *, error: str | None) -> AttemptOutcome:
    delivery.status = status
    delivery.last_error = error
    log.info("crm delivery %s attempt %s: %s", delivery.id, delivery.attempts, error or "delivered")
    return AttemptOutcome(status, retryable=status == DeliveryStatus.pending)


def give_up(delivery: CrmDelivery) -> None:
    """Retries exhausted: the row says failed; the job stays in RQ's failed registry (dead letters)."""
    delivery.status = DeliveryStatus.failed
    delivery.last_error = f"{delivery.last_error or 'error'} (gave up after {delivery.attempts} attempts)"
