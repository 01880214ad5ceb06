"""The admin settings page's test send: a text to any number now, outside the queue, saying what
the Graph API answered."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from portal import phones
from portal.channels.whatsapp import failures
from portal.channels.whatsapp.client import GraphError, graph_client
from portal.models import Agent, Inbox
from portal.pii import mask_phone
from portal.services import audit


@dataclass(frozen=True)
class TestSendOutcome:
    ok: bool
    message: str
    details: str = ""  # WhatsApp's own code and words, for a tooltip


def send_test_message(phone: str, text: str, *, inbox: Inbox, by: Agent) -> TestSendOutcome:
    """Send `text` to `phone` now from `inbox` (its number and token) and say what the Graph API answered."""
    try:
        to = phones.normalize(phone, current_app.config["DEFAULT_COUNTRY"])
    except phones.InvalidPhone:
        return TestSendOutcome(False, _("This is not a valid phone number."))
    try:
        result = graph_client(inbox).send_text(to.lstrip("+"), text)
    except GraphError as exc:
        audit.record("settings.test_message_failed", actor=by, to=mask_phone(to), code=exc.code)
        return TestSendOutcome(
            False,
            _("The Graph API refused the message: %(reason)s", reason=exc.reason),
            failures.details(exc.code, exc.title),
        )
    audit.record("settings.test_message_sent", actor=by, to=mask_phone(to), wamid=result.message_id)
    return TestSendOutcome(True, _("Sent. WhatsApp message id: %(wamid)s", wamid=result.message_id))
