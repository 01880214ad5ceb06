"""WhatsApp's template reviews (message_template_status_update) applied to message_templates."""

from __future__ import annotations

from portal.channels.whatsapp import notes
from portal.channels.whatsapp.webhook import TemplateStatusUpdate
from portal.models import TemplateStatus
from portal.services import templates, webhook_events

# WhatsApp's events that are not a state of their own: a reinstated template is approved again.
_EVENT_STATUS = {"REINSTATED": TemplateStatus.approved}


def apply(update: TemplateStatusUpdate) -> str | None:
    """Store WhatsApp's review status on the matching template; a note when none matches or the
    event is not a status we know."""
    status = _EVENT_STATUS.get(update.event.upper())
    if status is None:
        try:
            status = TemplateStatus(update.event.lower())
        except ValueError:
            return webhook_events.stored_text(notes.UNKNOWN_TEMPLATE_STATUS, name=update.name, event=update.event)
    # Meta writes "NONE" when there is no reason.
    reason = update.reason if update.reason and update.reason.upper() != "NONE" else None
    if not templates.apply_review(update.waba_id, update.name, update.language, status, reason=reason):
        return webhook_events.stored_text(notes.UNKNOWN_TEMPLATE, name=update.name, language=update.language or "?")
    return None
